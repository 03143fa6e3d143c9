# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime

from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestClock(TransactionCase):
    """Odoo and PostgreSQL tell the same time. ``make test-dates`` moves the clock of both:
    a PostgreSQL left on the real date would make its runs prove nothing (create_date and
    now() in SQL come from PostgreSQL)."""

    def test_database_and_odoo_agree_on_the_time(self):
        self.env.cr.execute("SELECT clock_timestamp() AT TIME ZONE 'UTC'")
        database = self.env.cr.fetchone()[0]
        odoo = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        self.assertLess(
            abs(database - odoo),
            datetime.timedelta(minutes=10),
            f"PostgreSQL's clock says {database}, Odoo's {odoo} (UTC)",
        )
