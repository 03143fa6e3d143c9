/** @odoo-module **/
// Copyright 2026 omni_payment_methods contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
//
// Back-office dialog (client action, target "new") for staff adding a card given on the
// phone. The form (Stripe Elements, holder name, country, nickname, the customer's consent)
// is the addon's page /omni/payment_method/staff/<partner>, shown in an iframe: Stripe.js
// (or localstripe's fake, which redefines globals) stays out of the web client's page.
import { Component, onMounted, onWillUnmount } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

export class OmniStaffAddPaymentMethod extends Component {
    static template = "omni_payment_methods.StaffAddPaymentMethod";
    static props = ["*"];

    setup() {
        this.params = this.props.action.params;
        this.action = useService("action");
        this.notification = useService("notification");
        this.onMessage = (event) => {
            if (
                event.origin === window.location.origin &&
                event.data &&
                event.data.type === "omni_payment_method_added"
            ) {
                this.notification.add(event.data.message, { type: "success" });
                this.close();
            }
        };
        onMounted(() => window.addEventListener("message", this.onMessage));
        onWillUnmount(() => window.removeEventListener("message", this.onMessage));
    }

    close() {
        this.action.doAction({ type: "ir.actions.act_window_close" });
    }
}

registry.category("actions").add("omni_add_payment_method", OmniStaffAddPaymentMethod);
