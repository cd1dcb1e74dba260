"""Seeds the server under test with real resources and writes their ids as
Schemathesis dictionaries, so generated requests hit existing customers,
orders (in every status), lines and order numbers, not only random ids that
answer 404.

Usage: seed.py BASE_URL OUT_DIR. Standard library only. With authentication
on, API_KEY (the environment variable) is sent as the Bearer key.
"""

import json
import os
import sys
import urllib.request
import uuid
from pathlib import Path

ORDERS = "/api/v1/order-mgmt/orders"
CUSTOMERS = "/api/v1/customer-mgmt/customers"


def call(base, method, path, body=None, expect=(200, 201)):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if os.environ.get("API_KEY"):
        request.add_header("Authorization", "Bearer " + os.environ["API_KEY"])
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status not in expect:
            raise SystemExit(f"seed: {method} {path} answered {response.status}")
        return json.load(response)["data"]


def dictionary_line(value):
    """One libFuzzer-style dictionary entry: a quoted string with escapes."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"\n'


def main():
    base, out = sys.argv[1], Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    customers, orders, lines, numbers = [], [], [], []

    for n in range(2):
        customer = call(
            base,
            "POST",
            CUSTOMERS,
            {"name": f"Seed Customer {n}", "email": f"seed{n}.{uuid.uuid4().hex}@example.com", "source": "seed"},
        )
        customers.append(customer["id"])
        # Each status once, and a few editable orders since tests cancel and delete them.
        for steps in ([], [], [], ["confirm"], ["confirm", "process"], ["confirm", "process", "fulfill"], ["cancel"]):
            order = call(base, "POST", ORDERS, {"customer_id": customer["id"], "currency": "USD"})
            for quantity, price in ((3, 10000), (2, 7500)):
                order = call(
                    base,
                    "POST",
                    f"{ORDERS}/{order['id']}/lines",
                    {"product_id": str(uuid.uuid4()), "quantity": quantity, "unit_price": price, "currency": "USD"},
                )
            for step in steps:
                order = call(base, "POST", f"{ORDERS}/{order['id']}/{step}")
            orders.append(order["id"])
            numbers.append(order["order_number"])
            lines.extend(line["id"] for line in order["lines"])
        # One order without lines, for the "confirm an empty order" path.
        empty = call(base, "POST", ORDERS, {"customer_id": customer["id"], "currency": "USD"})
        orders.append(empty["id"])
        numbers.append(empty["order_number"])

    dictionaries = {
        "customer_ids": customers,
        "order_ids": orders,
        "line_ids": lines,
        "order_numbers": numbers,
        "etags": ["*"] + [f'"{version}"' for version in range(1, 7)],
        "currencies": ["USD", "EUR", "JPY"],
    }
    for name, values in dictionaries.items():
        (out / f"{name}.dict").write_text("".join(dictionary_line(v) for v in values))
    print(f"seed: {len(customers)} customers, {len(orders)} orders, {len(lines)} lines", file=sys.stderr)


if __name__ == "__main__":
    main()
