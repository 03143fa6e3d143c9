# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What differs between Odoo 18.0 and 19.0, in one place per concern.

Business code calls these helpers and never tests Odoo's version itself. Each piece says
which series it serves; when 18.0 support ends, the 18.0 branches go and nothing else moves.

- ``compat/orm.py``: SQL constraints (``_sql_constraints`` on 18.0, ``models.Constraint``
  on 19.0).
- ``models/ir_cron_compat.py``: progress of batch jobs reported to the cron runner
  (``_notify_progress`` on 18.0, ``_commit_progress`` on 19.0).
- ``models/res_groups_compat.py``: the group, privilege and user-group fields that data
  files cannot name on both series (``category_id``/``users``/``groups_id`` on 18.0,
  ``privilege_id``/``user_ids``/``group_ids`` on 19.0); the data files call it.
- ``models/payment_compat.py``: the payment framework's hooks (18.0's notification-data
  methods and ``_stripe_make_request``, 19.0's ``_process``/``_apply_updates``/
  ``_tokenize`` and ``_send_api_request``).
"""

from odoo.release import version_info

#: Odoo's major version this code runs on: 18 or 19.
ODOO_MAJOR = version_info[0]
