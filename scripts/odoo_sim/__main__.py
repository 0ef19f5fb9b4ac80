"""Command line: python -m scripts.odoo_sim --port 8069 [--host 127.0.0.1] [--seed 0]."""

import argparse
import logging

from .server import serve


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m scripts.odoo_sim", description="Odoo 17 simulator (JSON-RPC, XML-RPC, webhooks)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8069, help="0 picks a free port (printed on stdout)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the webhook drop randomness")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(args.host, args.port, args.seed)


if __name__ == "__main__":
    main()
