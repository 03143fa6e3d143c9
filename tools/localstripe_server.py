#!/usr/bin/env python3
"""Run localstripe (a fake Stripe API) on a loopback address, with its state in memory only.

localstripe's own ``localstripe`` command binds every interface (``::``) and pickles its
state to /tmp/localstripe.pickle after every write. This wrapper serves the same aiohttp
application (the API under ``/v1``, ``/_config`` and the fake Stripe.js under
``/js.stripe.com/v3/``) on 127.0.0.1 (or another loopback address) and never touches the
disk.

Once the socket listens it prints exactly one line on stdout::

    localstripe listening on http://HOST:PORT

and it stops cleanly on SIGTERM or SIGINT. ``--port 0`` picks a free port.
"""

import argparse
import asyncio
import ipaddress
import logging
import signal
import socket
import sys

from aiohttp import web
from localstripe import resources, server


def loopback_address(host):
    """Return ``host`` as a loopback IP address; raise ``ValueError`` for anything else."""
    if host == "localhost":
        host = "127.0.0.1"
    address = ipaddress.ip_address(host)
    if not address.is_loopback:
        raise ValueError(f"{host} is not a loopback address")
    return address


def accept_stripe_only_parameters():
    """Let localstripe accept parameters real Stripe takes that it does not model.

    PaymentIntents: ``description`` (payment_stripe and the addon's off-session charges send
    the transaction reference in it) is dropped; everything else is validated as before.
    """
    create = resources.PaymentIntent._api_create.__func__
    if getattr(create, "omni_shim", False):
        return

    def _api_create(cls, description=None, **data):
        return create(cls, **data)

    _api_create.omni_shim = True
    resources.PaymentIntent._api_create = classmethod(_api_create)


class IndexedStore(resources.Store):
    """localstripe's store, with its objects also filed by type.

    localstripe lists objects by scanning the whole store, and it lists a charge's refunds
    each time it writes the charge out (``Charge.refunds``, ``Charge.amount_refunded``):
    every charge then costs a scan of every object created so far, and a benchmark of
    10,000 charges spends its time in the fake Stripe, not in Odoo. Real Stripe does not
    slow down with the number of objects; with this index a listing reads only the objects
    of its type, in the store's order, so the results are the same.
    """

    def _by_object(self):
        index = self.__dict__.get("_by_object_index")
        if index is None:
            index = {}
            for key, value in dict.items(self):
                index.setdefault(key.split(":", 1)[0], {})[key] = value
            self.__dict__["_by_object_index"] = index
        return index

    def _forget_index(self):
        self.__dict__.pop("_by_object_index", None)

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self._by_object().setdefault(key.split(":", 1)[0], {})[key] = value

    def __delitem__(self, key):
        super().__delitem__(key)
        self._by_object().get(key.split(":", 1)[0], {}).pop(key, None)

    def clear(self):
        super().clear()
        self._forget_index()

    def update(self, *args, **kwargs):
        super().update(*args, **kwargs)
        self._forget_index()

    def pop(self, *args):
        try:
            return super().pop(*args)
        finally:
            self._forget_index()

    def popitem(self):
        try:
            return super().popitem()
        finally:
            self._forget_index()

    def setdefault(self, key, default=None):
        try:
            return super().setdefault(key, default)
        finally:
            self._forget_index()

    def objects(self, object_name):
        """The objects of one type (``charge``, ``refund``...), in the store's order."""
        return list(self._by_object().get(object_name, {}).values())


def list_objects_by_type():
    """List each type's objects from the store's index instead of scanning the store.

    Same checks and order as localstripe's ``StripeObject._api_list_all``; the subclasses'
    own filters (a charge's refunds, a customer's cards...) still run on top of it.
    """
    if isinstance(resources.store, IndexedStore):
        return
    resources.store.__class__ = IndexedStore

    def _api_list_all(cls, url, limit=None, starting_after=None, **kwargs):
        if kwargs:
            raise resources.UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        listed = resources.List(url, limit=limit, starting_after=starting_after)
        listed._list = resources.store.objects(cls.object)
        return listed

    resources.StripeObject._api_list_all = classmethod(_api_list_all)


STRIPE_JS_PATH = "/js.stripe.com/v3/"


# What the fake Stripe.js lacks and the addon's page uses, as Stripe.js documents it: an
# "iban" element (a plain field here), whose value confirmSepaDebitSetup sends. With it the
# addon's JavaScript has no branch for this development server.
IBAN_ELEMENT_JS = """
(function addIbanElement() {
  const fakeStripe = Stripe;
  Stripe = (key, options) => {
    const stripe = fakeStripe(key, options);
    const fakeElements = stripe.elements;
    stripe.elements = (...args) => {
      const elements = fakeElements(...args);
      const create = elements.create;
      elements.create = function (type, opts) {
        if (type !== "iban") {
          return create.call(this, type, opts);
        }
        const input = document.createElement("input");
        input.type = "text";
        input.autocomplete = "off";
        input.style.cssText = "border: 0; width: 100%; outline: none;";
        input.placeholder = (opts && opts.placeholderCountry === "DE")
          ? "DE89 3704 0044 0532 0130 00" : "IBAN";
        const listeners = [];
        input.oninput = () => listeners.forEach((handler) => handler({}));
        return {
          omniIban: () => input.value.replace(/\\s/g, ""),
          mount: (container) => {
            const node = typeof container === "string"
              ? document.querySelector(container) : container;
            node.appendChild(input);
          },
          on: (event, handler) => event === "change" && listeners.push(handler),
          unmount: () => input.remove(),
          destroy: () => input.remove(),
        };
      };
      return elements;
    };
    const confirmSepa = stripe.confirmSepaDebitSetup;
    stripe.confirmSepaDebitSetup = (secret, data) => {
      const method = (data && data.payment_method) || {};
      const iban = method.sepa_debit;
      if (iban && typeof iban.omniIban === "function") {
        data = {...data, payment_method: {...method, sepa_debit: {iban: iban.omniIban()}}};
      }
      return confirmSepa(secret, data);
    };
    return stripe;
  };
})();
"""


@web.middleware
async def scoped_stripe_js(request, handler):
    """Serve localstripe's fake Stripe.js inside a function scope.

    As shipped, the script declares top-level ``class Element`` and ``const`` names, which
    in a classic script become globals of the page: ``Element`` then hides the DOM's own
    ``Element`` and breaks every library that reads it (Bootstrap's dropdowns throw "Cannot
    read properties of undefined (reading 'call')"). Only ``Stripe``, which the script
    assigns without a declaration, stays global, as with the real Stripe.js.
    """
    response = await handler(request)
    if request.path != STRIPE_JS_PATH or response.status != 200:
        return response
    return web.Response(
        text=f"(function () {{\n{response.text}\n{IBAN_ELEMENT_JS}}})();\n",
        content_type="application/javascript",
        headers={k: v for k, v in response.headers.items() if k.lower().startswith("access-")},
    )


async def serve(address, port):
    # In memory only: never load nor dump /tmp/localstripe.pickle (the store calls
    # dump_to_disk() on every change, the stock server's middleware after every write).
    resources.store.dump_to_disk = lambda: None
    accept_stripe_only_parameters()
    list_objects_by_type()
    if scoped_stripe_js not in server.app.middlewares:
        server.app.middlewares.append(scoped_stripe_js)  # innermost: wraps the JS handler

    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((str(address), port))
    sock.listen(128)
    sock.setblocking(False)

    # Handlers first: whoever reads the banner may signal at once.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    runner = web.AppRunner(server.app, access_log=logging.getLogger("aiohttp.access"))
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        host = f"[{address}]" if address.version == 6 else str(address)
        print(f"localstripe listening on http://{host}:{sock.getsockname()[1]}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()
        sock.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address")
    parser.add_argument("--port", type=int, default=8420, help="0 picks a free port")
    args = parser.parse_args(argv)
    try:
        address = loopback_address(args.host)
    except ValueError as exc:
        parser.error(f"refusing to listen on {args.host!r}: {exc}")
    if not 0 <= args.port <= 65535:
        parser.error(f"invalid port {args.port}")

    # localstripe reports webhook deliveries on the "aiohttp.access" logger.
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    try:
        asyncio.run(serve(address, args.port))
    except OSError as exc:  # e.g. the port is taken
        print(f"localstripe: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
