/** @odoo-module **/
// Copyright 2026 omni_payment_methods contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
//
// Progress bar of a bulk charge run that keeps the page current while the run is in
// progress: every few seconds the record (counts, lines, state) is read again, as long as
// the run is running and the user is not editing it. Stops by itself when the run ends.
import { onMounted, onWillUnmount } from "@odoo/owl";
import {
    ProgressBarField,
    progressBarField,
} from "@web/views/fields/progress_bar/progress_bar_field";
import { registry } from "@web/core/registry";

export const REFRESH_DELAY = 3000;

export class OmniBulkChargeProgressField extends ProgressBarField {
    setup() {
        super.setup();
        onMounted(() => {
            this.timer = setInterval(() => this.refresh(), REFRESH_DELAY);
        });
        onWillUnmount(() => clearInterval(this.timer));
    }

    async refresh() {
        const record = this.props.record;
        if (record.data.state !== "running" || record.isNew || this.loading) {
            return;
        }
        if (await record.isDirty()) {
            return;
        }
        this.loading = true;
        try {
            await record.load();
        } finally {
            this.loading = false;
        }
    }
}

registry.category("fields").add("omni_bulk_charge_progress", {
    ...progressBarField,
    component: OmniBulkChargeProgressField,
});
