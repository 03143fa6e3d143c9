# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Emails written in batch: the body of an outgoing email in a notification layout.

Odoo's own batched sending, ``mail.template.send_mail_batch``, encapsulates each body in the
layout its own way on each series, and this follows it: 18.0 renders the layout with a
``message`` built from the body (18.0's ``_render_encapsulate`` gives the layout no
``message``, which ``mail.mail_notification_light`` needs); 19.0 calls
``mail.render.mixin._render_encapsulate``, which builds it.
"""

from odoo.tools import is_html_empty

from . import ODOO_MAJOR


def render_layout(layout_xmlid, body, record, company, lang):
    """``body`` (Markup) in the layout ``layout_xmlid``, for ``record`` (the document the
    email is about) sent by ``company``, in ``lang``: the HTML of the outgoing email."""
    env = record.env(context=dict(record.env.context, lang=lang or record.env.lang))
    record = record.with_env(env)
    model_description = env["ir.model"]._get(record._name).display_name
    if ODOO_MAJOR >= 19:
        return env["mail.render.mixin"]._render_encapsulate(
            layout_xmlid,
            body,
            add_context={"company": company, "model_description": model_description},
            context_record=record,
        )
    template_ctx = {
        "message": env["mail.message"]
        .sudo()
        .new({"body": body, "record_name": record.display_name}),
        "subtype": env["mail.message.subtype"].sudo(),
        "model_description": model_description,
        "record": record,
        "record_name": False,
        "subtitles": False,
        "company": company,
        "email_add_signature": False,
        "signature": "",
        "website_url": "",
        "is_html_empty": is_html_empty,
    }
    html = env["ir.qweb"]._render(layout_xmlid, template_ctx, minimal_qcontext=True)
    return env["mail.render.mixin"]._replace_local_links(html)
