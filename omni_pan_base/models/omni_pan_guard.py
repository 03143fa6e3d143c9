# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from markupsafe import Markup

from odoo import api, models

from ..lib import pan as pan_lib

_logger = logging.getLogger(__name__)


class OmniPanGuard(models.AbstractModel):
    """Masks card numbers in free text before it is stored (chatter, emails, notes).

    Card numbers (Luhn-valid runs of 13 to 19 digits, grouped by spaces or dashes) keep their
    first 6 and last 4 digits; the rest becomes ``*``. The author is told why: internal users
    get a notification in their browser, and an internal note on the document says that a
    number was masked (for emails received from outside, the note is the only trace).
    Models take it through the ``omni.pan.guarded`` mixin; the free text of chatter,
    activities and customers is guarded once the Card Number Guard module is installed.
    """

    _name = "omni.pan.guard"
    _description = "Card Number Guard"

    @api.model
    def _enabled(self):
        """Whether the guard masks the free text of the models that take it (those whose
        ``_omni_pan_always`` is set mask whatever this says). Off here: the Card Number
        Guard module (omni_pan_guard) turns it on, with its setting."""
        return False

    @api.model
    def _mask_vals(self, model, vals, field_names=None, phone_fields=()):
        """Mask card numbers in the text fields of ``vals`` (in place) for ``model``.

        :param field_names: the fields to check; every char, text and html field otherwise
        :param phone_fields: fields holding phone numbers (see ``pan.mask_pans(phone=)``)
        :return: the names of the fields in which a number was masked
        """
        masked_fields = []
        for name, value in vals.items():
            if not isinstance(value, str) or (field_names is not None and name not in field_names):
                continue
            field = model._fields.get(name)
            if field is None or field.type not in ("char", "text", "html"):
                continue
            if field.type == "html":
                new_value, count = pan_lib.mask_pans_html(value)
                if count and isinstance(value, Markup):
                    # The value was already safe HTML: only digits changed.
                    new_value = Markup(new_value)  # noqa: S704 - digits replaced by "*" only
            else:
                new_value, count = pan_lib.mask_pans(value, phone=name in phone_fields)
            if count:
                vals[name] = new_value
                masked_fields.append(name)
        return masked_fields

    @api.model
    def _tell_author(self, record, field_labels, incoming=False):
        """Tell why text was changed: a browser notification and a note on ``record``."""
        fields_text = ", ".join(field_labels)
        _logger.warning(
            "card number masked in %s of %s,%s (user %s)",
            fields_text,
            record._name if record else "-",
            record.id if record else "-",
            self.env.uid,
        )
        user = self.env.user
        if not incoming and user._is_internal() and not self.env.su:
            user._bus_send(
                "simple_notification",
                {
                    "type": "warning",
                    "sticky": True,
                    "title": self.env._("Card number masked"),
                    "message": self.env._(
                        "What you wrote (%(fields)s) contained a card number. Card numbers are "
                        "never stored in Odoo: it was saved with only its first 6 and last 4 "
                        "digits. Add cards through Stripe instead.",
                        fields=fields_text,
                    ),
                },
            )
        if record and hasattr(record, "_message_log"):
            if incoming:
                body = self.env._(
                    "A card number in a received email (%(fields)s) was masked before it was "
                    "stored: card numbers are never kept in Odoo.",
                    fields=fields_text,
                )
            else:
                body = self.env._(
                    "A card number written by %(author)s (%(fields)s) was masked before it was "
                    "stored: card numbers are never kept in Odoo.",
                    # Masked: the note itself goes through the guard and must hold no
                    # number (a name is masked when stored, unless the guard was off then).
                    author=pan_lib.mask_pans(user.name or "")[0],
                    fields=fields_text,
                )
            # sudo: the note is the system explaining a change, whatever the author may post.
            record.sudo()._message_log(body=body)
