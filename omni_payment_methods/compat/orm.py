# Copyright 2026 omni_payment_methods contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ORM declarations whose form differs between Odoo 18.0 and 19.0."""

from odoo import models

from . import ODOO_MAJOR


def sql_constraints(*constraints):
    """Class decorator declaring a model's SQL constraints on Odoo 18.0 and 19.0.

    ``constraints`` are ``(name, definition, message)`` triples, as 18.0's
    ``_sql_constraints`` lists them:

    - 18.0 reads the list ``_sql_constraints``;
    - 19.0 ignores that attribute (with a warning: the constraint would be silently lost)
      and takes ``models.Constraint`` objects named ``_<name>`` instead. The database
      constraint gets the same name on both series (``<table>_<name>``), so a database
      moved from 18.0 to 19.0 keeps it.

    :param constraints: ``(name, definition, message)`` triples
    :return: the decorator, which returns the model class
    """

    def declare(cls):
        if ODOO_MAJOR >= 19:  # 19.0: models.Constraint, registered as a class attribute
            for name, definition, message in constraints:
                constraint = models.Constraint(definition, message)
                setattr(cls, f"_{name}", constraint)
                constraint.__set_name__(cls, f"_{name}")
        else:  # 18.0: the list, and its copy that ir.model.constraint reflects (which
            # module owns each constraint; MetaModel sets it when the class is created)
            cls._sql_constraints = cls._local_sql_constraints = [*constraints]
        return cls

    return declare
