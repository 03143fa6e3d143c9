"""Thin, explicit access to Stripe through the official SDK, and Stripe object mapping.

Every call the addon makes to Stripe goes through a ``stripe.StripeClient`` built here: an
explicit API version, bounded timeouts, bounded network retries, and an idempotency key on
every write. The mapping functions turn Stripe objects (SDK objects or plain dicts, in the
current API shape or localstripe's older one) into the values stored on ``payment.token``.
"""

import hashlib

import stripe

# The Stripe API version the addon's own calls are written against. Odoo's payment_stripe
# keeps its own (older) version for its flows.
API_VERSION = "2024-06-20"
# (connect, read) timeouts in seconds.
DEFAULT_TIMEOUT = (5.0, 20.0)
DEFAULT_MAX_NETWORK_RETRIES = 2

CARD = "card"
BANK = "bank"
# Stripe PaymentMethod types the addon stores, and the kind of method each is.
SUPPORTED_TYPES = {
    "card": CARD,
    "sepa_debit": BANK,
    "acss_debit": BANK,
    "us_bank_account": BANK,
    "bacs_debit": BANK,
    "au_becs_debit": BANK,
}
FUNDING_VALUES = ("credit", "debit", "prepaid")
# Bank debits the add flow saves for off-session charges (SetupIntent with usage
# off_session), and the currency of the mandate Stripe requires for each, if any.
BANK_SETUP_TYPES = ("sepa_debit", "acss_debit", "us_bank_account")
SETUP_TYPES = ("card", *BANK_SETUP_TYPES)
# Stripe refuses these PaymentMethods without billing_details[email] (the mandate
# confirmation and debit notifications are emailed to it).
EMAIL_REQUIRED_TYPES = ("sepa_debit", "acss_debit")
MANDATE_STATUSES = ("active", "inactive", "pending")

# Error categories the Odoo layer turns into translated messages.
ERROR_UNREACHABLE = "unreachable"
ERROR_TIMEOUT = "timeout"
ERROR_NOT_FOUND = "not_found"
ERROR_CARD = "card"
ERROR_AUTH = "auth"
ERROR_INVALID = "invalid"
ERROR_SERVER = "server"


# One HTTP client per timeout setting, shared by every StripeClient of the process: the SDK's
# RequestsClient keeps one keep-alive session per thread, so connections are reused and no
# socket is left behind by short-lived clients.
_HTTP_CLIENTS = {}


def _http_client(timeout):
    client = _HTTP_CLIENTS.get(timeout)
    if client is None:
        client = _HTTP_CLIENTS[timeout] = stripe.RequestsClient(timeout=timeout)
    return client


def make_client(
    secret_key,
    api_base=None,
    timeout=DEFAULT_TIMEOUT,
    max_network_retries=DEFAULT_MAX_NETWORK_RETRIES,
):
    """Return a ``StripeClient`` for ``secret_key``.

    :param str api_base: another API base URL (localstripe in development and tests);
        None for Stripe itself.
    """
    if not secret_key:
        raise ValueError("A Stripe secret key is required")
    kwargs = {
        "stripe_version": API_VERSION,
        "max_network_retries": max_network_retries,
        "http_client": _http_client(timeout),
    }
    if api_base:
        kwargs["base_addresses"] = {"api": api_base.rstrip("/")}
    return stripe.StripeClient(secret_key, **kwargs)


def idempotency_key(*parts):
    """Return a stable idempotency key for the operation identified by ``parts``."""
    raw = "\x1f".join(str(part) for part in parts)
    return "omni-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:48]


def as_dict(obj):
    """Return a plain dict from a Stripe SDK object or a mapping (None stays None)."""
    if obj is None:
        return None
    if isinstance(obj, stripe.StripeObject):
        return obj.to_dict()
    return dict(obj)


def classify_error(exc):
    """Return ``(category, message, decline_code)`` for an exception raised by the SDK."""
    message = getattr(exc, "user_message", None) or str(exc) or exc.__class__.__name__
    if isinstance(exc, stripe.APIConnectionError):
        text = str(exc).lower()
        if "timeout" in text or "timed out" in text:
            return ERROR_TIMEOUT, message, None
        return ERROR_UNREACHABLE, message, None
    if isinstance(exc, stripe.CardError):
        error = getattr(exc, "error", None)
        decline = getattr(error, "decline_code", None) if error else None
        return ERROR_CARD, message, decline or getattr(exc, "code", None)
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return ERROR_AUTH, message, None
    if isinstance(exc, stripe.InvalidRequestError):
        if getattr(exc, "http_status", None) == 404 or getattr(exc, "code", None) == (
            "resource_missing"
        ):
            return ERROR_NOT_FOUND, message, None
        return ERROR_INVALID, message, None
    return ERROR_SERVER, message, None


def method_kind(pm_type):
    """Return ``card`` or ``bank`` for a Stripe PaymentMethod type, None if unsupported."""
    return SUPPORTED_TYPES.get(pm_type)


def payment_method_values(payment_method):
    """Map a Stripe PaymentMethod to the values the addon stores on ``payment.token``.

    Only non-sensitive details are read: brand, last 4, expiry, funding, country,
    fingerprint, wallet, holder name and bank name. ``card_country_code`` is an ISO code
    the Odoo layer turns into a country record.
    """
    pm = as_dict(payment_method)
    pm_type = pm.get("type")
    details = as_dict(pm.get(pm_type)) or {}
    billing = as_dict(pm.get("billing_details")) or {}
    values = {
        "stripe_payment_method": pm["id"],
        "omni_method_kind": method_kind(pm_type),
        "omni_stripe_pm_type": pm_type,
        "omni_holder_name": billing.get("name") or False,
        "omni_fingerprint": details.get("fingerprint") or False,
        "payment_details": details.get("last4") or False,
    }
    if pm_type == "card":
        brand = details.get("display_brand") or details.get("brand") or ""
        funding = details.get("funding")
        wallet = as_dict(details.get("wallet")) or {}
        values.update(
            {
                "omni_card_brand": brand.replace("_", " ").lower() or False,
                "omni_card_exp_month": int(details["exp_month"]) if details.get("exp_month") else 0,
                "omni_card_exp_year": int(details["exp_year"]) if details.get("exp_year") else 0,
                "omni_card_funding": funding if funding in FUNDING_VALUES else "unknown",
                "card_country_code": (details.get("country") or "").upper() or False,
                "omni_card_wallet": wallet.get("type") or False,
                "omni_bank_name": False,
            }
        )
    else:
        values.update(
            {
                "omni_card_brand": False,
                "omni_card_exp_month": 0,
                "omni_card_exp_year": 0,
                "omni_card_funding": False,
                "card_country_code": (details.get("country") or "").upper() or False,
                "omni_card_wallet": False,
                "omni_bank_name": details.get("bank_name") or details.get("bank_code") or False,
            }
        )
    return values


def setup_intent_params(pm_type, customer, metadata, acss_transaction_type="business"):
    """Parameters of the SetupIntent that saves a ``pm_type`` method for off-session use.

    ACSS needs its mandate options (a sporadic schedule: invoices are debited as they fall
    due) and the currency of the mandate (CAD); US bank accounts are verified instantly
    through Financial Connections when possible, else by micro-deposits.
    """
    if pm_type not in SETUP_TYPES:
        raise ValueError(f"Unsupported payment method type {pm_type!r}")
    params = {
        "customer": customer,
        "usage": "off_session",
        "payment_method_types": [pm_type],
        "metadata": metadata,
    }
    if pm_type == "acss_debit":
        params["payment_method_options"] = {
            "acss_debit": {
                "currency": "cad",
                "mandate_options": {
                    "payment_schedule": "sporadic",
                    "transaction_type": acss_transaction_type,
                },
                "verification_method": "automatic",
            }
        }
    elif pm_type == "us_bank_account":
        params["payment_method_options"] = {
            "us_bank_account": {
                "verification_method": "automatic",
                "financial_connections": {"permissions": ["payment_method"]},
            }
        }
    return params


def mandate_values(mandate=None, payment_method=None):
    """Map a Stripe Mandate (current API) to ``(reference, status)``.

    Without a Mandate object (localstripe has none), the reference SEPA PaymentMethods
    carried in the older API shape is used, with the status ``active``: a succeeded
    SetupIntent means the mandate was accepted.
    """
    mandate = as_dict(mandate) or {}
    if mandate:
        details = as_dict(mandate.get("payment_method_details")) or {}
        specific = as_dict(details.get(details.get("type"))) or {}
        reference = specific.get("reference") or mandate.get("id")
        status = mandate.get("status")
        return reference or False, status if status in MANDATE_STATUSES else False
    pm = as_dict(payment_method) or {}
    details = as_dict(pm.get(pm.get("type"))) or {}
    reference = details.get("mandate_reference")
    return (reference or False), ("active" if reference else False)


def customer_id_of(payment_method):
    """Return the Stripe customer id a PaymentMethod is attached to (or None)."""
    customer = as_dict(payment_method).get("customer")
    if isinstance(customer, dict):
        return customer.get("id")
    if isinstance(customer, stripe.StripeObject):
        return customer["id"]
    return customer or None


# How brands are shown to people (Stripe's brand codes are lowercase identifiers).
BRAND_LABELS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "american express": "American Express",
    "discover": "Discover",
    "diners": "Diners Club",
    "jcb": "JCB",
    "unionpay": "UnionPay",
    "cartes bancaires": "Cartes Bancaires",
    "eftpos au": "eftpos Australia",
    "interac": "Interac",
    "link": "Link",
}


def brand_label(brand):
    """Return the human label of a card brand code ("visa" -> "Visa")."""
    if not brand:
        return ""
    return BRAND_LABELS.get(brand.lower(), brand.replace("_", " ").title())
