# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class OmniPanGuarded(models.AbstractModel):
    """The card number guard on a model's free text: values are masked on create and
    write before they are stored (``omni.pan.guard``), and the author is told.

    A model takes it with ``_inherit = [<model>, "omni.pan.guarded"]`` and says which
    fields are guarded (``_omni_pan_fields``, every char/text/html field when None) and
    which of them hold phone numbers (``_omni_pan_phone_fields``); it overrides
    ``_omni_pan_document`` when the author's note belongs on another record, and
    ``_omni_pan_incoming`` when the text came from outside (a received email). No context
    key switches the guard off: a client's context reaches create() through RPC routes.
    """

    _name = "omni.pan.guarded"
    _description = "Card Number Guard on a Model"

    _omni_pan_fields = None
    _omni_pan_phone_fields = ()
    #: mask whatever the setting says (a log the addon keeps itself, read by viewers)
    _omni_pan_always = False

    @api.model_create_multi
    def create(self, vals_list):
        masked = [self._omni_pan_mask(vals) for vals in vals_list]
        records = super().create(vals_list)
        for record, names in zip(records, masked, strict=True):
            if names:
                record._omni_pan_masked(names)
        return records

    def write(self, vals):
        vals = dict(vals)
        names = self._omni_pan_mask(vals)
        res = super().write(vals)
        for record in self if names else self.browse():
            record._omni_pan_masked(names)
        return res

    @api.model
    def _omni_pan_mask(self, vals):
        """Mask card numbers in ``vals`` (in place); return the names of the fields
        masked."""
        guard = self.env["omni.pan.guard"]
        if not self._omni_pan_always and not guard._enabled():
            return []
        return guard._mask_vals(self, vals, self._omni_pan_fields, self._omni_pan_phone_fields)

    def _omni_pan_masked(self, names):
        """Tell the author of this record's text why ``names`` were masked."""
        self.ensure_one()
        labels = [self._fields[name].string for name in names]
        self.env["omni.pan.guard"]._tell_author(
            self._omni_pan_document(), labels, incoming=self._omni_pan_incoming()
        )

    def _omni_pan_document(self):
        """The record whose chatter gets the note (this one by default)."""
        self.ensure_one()
        return self

    def _omni_pan_incoming(self):
        """The text came from outside (no author in Odoo to notify)."""
        return False

    def _omni_pan_related_document(self, model_name, res_id):
        """The document ``model_name``/``res_id`` a message or an activity is attached to,
        or an empty recordset."""
        if model_name and res_id and model_name in self.env:
            # sudo: the note goes on the document whoever wrote the text.
            return self.env[model_name].sudo().browse(res_id).exists()
        return self.env["omni.pan.guard"].browse()
