"""The harness behind ``tools/omnictl.py`` (the make targets): throwaway local servers for
the demo and the tests of our addons (the repository's folders holding a __manifest__.py).
What the ecosystem maintains is used directly: pytest and pytest-odoo run the tests, OCA's
click-odoo-contrib exports the translations (click-odoo-makepot), copies the installed test
database for Odoo's own suites and the installs alone (click-odoo-copydb), keeps the demo
database between runs (click-odoo-backupdb and click-odoo-restoredb) and uninstalls our
addons in ``uninstall-check`` (click-odoo-uninstall). What is left is specific to this
project, one module per concern:

- ``common``: paths, our addons and their manifests, output, signals, process helpers;
- ``session``: a command's throwaway directory and servers, leftovers of killed runs;
- ``postgres``: the throwaway cluster; ``localstripe``: the fake Stripe API;
- ``odoo``: which Odoo (ODOO_HOME, the ``odoo`` package, ODOO_SOURCE), its addons and
  which of ours install in it;
- ``install``: the Odoo configuration and the checked install;
- ``deps``, ``lint``, ``i18n``, ``demo`` (``make run``), ``testrun`` (``make test``),
  ``suites`` (``make odoo-suites``), ``uninstall`` (``make uninstall-check``), ``upgrade``
  (``make upgrade-check``, the snapshots): the commands; ``alone``: each addon installed
  alone, a step of ``make test``;
- ``report``: the closing summary of ``make test``; ``cli``: the command line.
"""
