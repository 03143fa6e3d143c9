# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.omni_payment_methods.compat import orm as compat_orm

from ..lib import pacing

#: requests per second to one Stripe account (0: 80 % of Stripe's limit for its mode)
RATE_PARAM = "omni_payment_charging.stripe_requests_per_second"


@compat_orm.sql_constraints(
    ("provider_uniq", "UNIQUE(provider_id)", "One pacing bucket per Stripe account."),
)
class OmniStripePacing(models.Model):
    """The token bucket of a Stripe account (``lib/pacing.py``), one row per provider,
    shared by every worker and server: requests to Stripe are taken from it."""

    _name = "omni.stripe.pacing"
    _description = "Stripe Request Pacing"
    _log_access = False

    # The provider's id, not a foreign key: the bucket is taken in a transaction of its own,
    # which does not see a provider the caller's transaction created and did not commit.
    provider_id = fields.Integer(required=True, readonly=True)
    tokens = fields.Float(readonly=True)
    stamp = fields.Float(readonly=True, help="Seconds since the epoch.")

    @api.model
    def _rate(self, provider):
        """The ceiling of requests per second for ``provider``'s Stripe account."""
        # sudo: a technical setting read by the charging job, whoever runs it.
        setting = self.env["ir.config_parameter"].sudo().get_param(RATE_PARAM, "0")
        try:
            setting = int(setting or 0)
        except ValueError:
            setting = 0
        return pacing.rate_for(setting, live=provider.state == "enabled")

    @api.model
    def _take(self, provider, want):
        """Take up to ``want`` requests from ``provider``'s bucket, in a short transaction of
        its own (committed at once, so that the other workers see it; the caller's
        transaction is left alone).

        :return: ``(granted, wait)``: the requests that may be sent now, and the seconds to
            wait before asking for the rest (0 when all were granted): until a quarter of a
            second of requests is back (``pacing.chunk_for``), not the next single one
        :rtype: tuple
        """
        rate = self._rate(provider)
        with self.env.registry.cursor() as cr:
            # One round trip (several statements, as Odoo's own customer_rank update):
            # - read committed, not Odoo's repeatable read: the row lock below must be
            #   followed by the latest committed bucket (another worker's), not this
            #   snapshot's, which would fail with a serialization error instead;
            # - the account's row, created the first time;
            # - the row lock orders the workers; the database's clock is the one they share.
            cr.execute(
                SQL(
                    "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; "
                    "INSERT INTO omni_stripe_pacing (provider_id) VALUES (%s) "
                    "ON CONFLICT (provider_id) DO NOTHING; "
                    "SELECT tokens, stamp, extract(epoch FROM clock_timestamp()) "
                    "FROM omni_stripe_pacing WHERE provider_id = %s FOR NO KEY UPDATE",
                    provider.id,
                    provider.id,
                )
            )
            tokens, stamp, now = cr.fetchone()
            bucket, granted, wait = pacing.take(
                pacing.Bucket(tokens, stamp),
                float(now),
                rate,
                want,
                chunk=pacing.chunk_for(rate),
            )
            cr.execute(
                SQL(
                    "UPDATE omni_stripe_pacing SET tokens = %s, stamp = %s WHERE provider_id = %s",
                    bucket.tokens,
                    bucket.stamp,
                    provider.id,
                )
            )
        return granted, wait
