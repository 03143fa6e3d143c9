# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""1.0.1: the emails' links are issued by methods when an email is rendered.

Before, templates read the computed fields ``omni_update_url`` / ``omni_pay_url`` (which
minted a link whenever they were read) or a link put in the rendering context; those fields
are gone. The templates are ``noupdate``, so an upgrade keeps the old bodies, which would
no longer render. The templates of this module that still use the old names are reloaded
from the modules' data files (only those: other templates keep what staff changed).

Since 1.1.0 the dunning and installment templates belong to omni_payment_charging (the
1.1.0 pre-migration, which runs before this script, moved their xml ids there).
"""

import io
import logging
import re

from lxml import etree

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL, file_open
from odoo.tools.convert import convert_xml_import

_logger = logging.getLogger(__name__)

#: the data files of the templates, by the module that holds them
TEMPLATE_FILES = {
    "omni_payment_methods": ("data/mail_template_data.xml",),
    "omni_payment_charging": (
        "data/mail_template_dunning_data.xml",
        "data/mail_template_installment_data.xml",
    ),
}
STALE = re.compile(r"object\.omni_update_url\b|object\.omni_pay_url\b|omni_link_url")


def stale_templates(env):
    """xml ids (names) of the modules' templates whose body or subject, in any language,
    still uses the removed link fields."""
    data = env["ir.model.data"].search(
        [("module", "in", list(TEMPLATE_FILES)), ("model", "=", "mail.template")]
    )
    names = set()
    for xmlid in data:
        env.cr.execute(
            SQL(
                "SELECT concat(body_html::text, ' ', subject::text) FROM mail_template "
                "WHERE id = %s",
                xmlid.res_id,
            )
        )
        row = env.cr.fetchone()
        if row and STALE.search(row[0] or ""):
            names.add(xmlid.name)
    return names


def reload_templates(env, names):
    """Load the ``<record>`` of each template named in ``names`` from the data files, as at
    install (their noupdate flag kept)."""
    for module, filename in (
        (module, filename) for module, files in TEMPLATE_FILES.items() for filename in files
    ):
        with file_open(f"{module}/{filename}", "rb") as handle:
            tree = etree.parse(handle)
        for record in list(tree.iter("record")):
            if record.get("id") not in names:
                record.getparent().remove(record)
        if not any(True for _record in tree.iter("record")):
            continue
        document = io.BytesIO(etree.tostring(tree))
        document.name = filename  # convert_xml_import names the file in its messages
        convert_xml_import(env, module, document, {}, mode="init", noupdate=True)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    names = stale_templates(env)
    if names:
        _logger.info("reloading the email templates %s (links issued by methods)", sorted(names))
        reload_templates(env, names)
