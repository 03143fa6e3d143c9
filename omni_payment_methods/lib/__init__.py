"""Plain-Python helpers of omni_payment_methods.

Nothing in this package imports ``odoo``: the logic here (card-number detection, expiry
arithmetic, Stripe object mapping) is tested in milliseconds by the project's top-level
``tests/`` without an Odoo installation.
"""
