# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Group fields that a data file cannot name on both Odoo 18.0 and 19.0.

==========================  =========================  ==================================
what                        18.0                       19.0
==========================  =========================  ==================================
a group's application       ``res.groups.category_id``  ``res.groups.privilege_id`` (a
                            (``ir.module.category``)    ``res.groups.privilege`` whose
                                                        ``category_id`` is the category)
a group's users             ``res.groups.users``        ``res.groups.user_ids``
a user's groups             ``res.users.groups_id``     ``res.users.group_ids``
an action's groups          ``groups_id``               ``group_ids``
==========================  =========================  ==================================

The data files keep what both series read and call these methods with ``<function>`` for
the rest, so the values are set on install and again on every update (which also keeps the
19.0 privilege's xml id loaded, never deleted as obsolete).
"""

from odoo import Command, api, models

from ..compat import ODOO_MAJOR

if ODOO_MAJOR >= 19:  # 19.0
    GROUP_USERS, USER_GROUPS, RECORD_GROUPS = "user_ids", "group_ids", "group_ids"
else:  # 18.0
    GROUP_USERS, USER_GROUPS, RECORD_GROUPS = "users", "groups_id", "groups_id"


class ResGroups(models.Model):
    _inherit = "res.groups"

    @api.model
    def _omni_compat_set_application(self, group_xmlids, category_xmlid):
        """File the groups under the application ``category_xmlid`` (an ir.module.category).

        - 18.0: ``category_id`` of each group;
        - 19.0: a privilege of the category, with xml id ``<category xml id>_privilege``
          (created here, owned by the addon), as ``privilege_id`` of each group.

        :param list group_xmlids: the groups' xml ids
        :param str category_xmlid: the category's xml id
        """
        category = self.env.ref(category_xmlid)
        groups = self._omni_compat_records(group_xmlids)
        if ODOO_MAJOR >= 19:  # 19.0
            privilege = self.env["res.groups.privilege"]._load_records(
                [
                    {
                        "xml_id": f"{category_xmlid}_privilege",
                        "values": {
                            "name": category.name,
                            "description": category.description,
                            "sequence": category.sequence,
                            "category_id": category.id,
                        },
                    }
                ],
                update=True,
            )
            groups.write({"privilege_id": privilege.id})
        else:  # 18.0
            groups.write({"category_id": category.id})

    @api.model
    def _omni_compat_add_users(self, group_xmlid, user_xmlids):
        """Add the users ``user_xmlids`` to the group ``group_xmlid``."""
        users = self._omni_compat_records(user_xmlids)
        self.env.ref(group_xmlid).write({GROUP_USERS: [Command.link(u.id) for u in users]})

    @api.model
    def _omni_compat_set_user_groups(self, user_xmlid, group_xmlids):
        """Give the user ``user_xmlid`` exactly the groups ``group_xmlids``."""
        groups = self._omni_compat_records(group_xmlids)
        self.env.ref(user_xmlid).write({USER_GROUPS: [Command.set(groups.ids)]})

    @api.model
    def _omni_compat_restrict_to_groups(self, record_xmlids, group_xmlids):
        """Show the actions (or menus, views) ``record_xmlids`` to the groups
        ``group_xmlids`` only."""
        groups = self._omni_compat_records(group_xmlids)
        for record in [self.env.ref(xmlid) for xmlid in record_xmlids]:  # various models
            record.write({RECORD_GROUPS: [Command.link(g.id) for g in groups]})

    @api.model
    def _omni_compat_records(self, xmlids):
        """The records of one model that ``xmlids`` name."""
        records = [self.env.ref(xmlid) for xmlid in xmlids]
        return records[0].union(*records[1:]) if records else self.browse()
