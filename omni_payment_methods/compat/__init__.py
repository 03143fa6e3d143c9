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
  methods, ``_stripe_make_request`` and ``_send_payment_request``; 19.0's ``_process``,
  ``_tokenize``, ``_send_api_request`` and ``_charge_with_token``).
- ``wizards/account_payment_register_compat.py``: Register Payment lists the customer's
  saved methods in sudo, as 18.0 did (19.0 checks read access on the assignment).
- ``compat/mail.py``: the layout of emails written in batch (the expiry reminders), as
  each series' ``mail.template.send_mail_batch`` renders it.
- ``compat/__init__.py`` (here): ``POST_WITHOUT_FOLLOWING``, the context of the
  customer emails so that whoever triggers one does not follow the customer.
- ``tests/compat.py``: what the tests drive or patch differently (payment entry points,
  Odoo's Stripe request, the users' groups field, browsers and the test server, portal
  forms, mail routes).

The portal's JavaScript needs no compat piece: the addon's add-a-method page is its own
public widget (19.0's public root still starts them) and does not extend payment's
checkout form, which 19.0 rewrote as an Interaction.

Data files name only fields both series have; views use markup both schemas accept (a
search view's ``<group>`` without ``expand``/``string``). The manifest's version has no
series (``1.0.1``): both series prefix it with their own.
"""

from odoo.release import version_info

#: Odoo's major version this code runs on: 18 or 19.
ODOO_MAJOR = version_info[0]

#: Context of an email the company posts to its customer, which must not make the user who
#: triggered it a follower of the customer (a follower receives every later email, with
#: its links): ``mail_create_nosubscribe`` on 18.0; 19.0's ``message_post`` subscribes the
#: author of a comment unless ``mail_post_autofollow_author_skip`` is set (18.0 ignores it).
POST_WITHOUT_FOLLOWING = {"mail_create_nosubscribe": True, "mail_post_autofollow_author_skip": True}
