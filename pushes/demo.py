"""Demo customers for `make run`, one per storefront type, all on the sandbox fakes."""

from integrations.demo import DEMO_PRINTOPS
from integrations.models import OMSIntegration, OPSIntegration, PrintOpsIntegration
from pushes.models import Customer, MarkupRule, Rounding

DEMO_POSTER_STORE = 786322


def _customer(name, storefront, rule, options=None):
    customer = Customer.objects.filter(name=name).first()
    if customer is None:
        customer = Customer.objects.create(name=name, storefront=storefront(),
                                           storefront_options=options or {})
        MarkupRule.objects.create(customer=customer, **rule)
    return customer


def load_demo_customers(owner, sandbox_url):
    """Customers on the sandbox's OnPrintShop, PrintOps and OMS fakes (created once)."""
    ops_url, oms_url = f"{sandbox_url}/ops", f"{sandbox_url}/oms"
    customers = [
        _customer(
            "Demo Storefront Co.",
            lambda: OPSIntegration.objects.create(
                name="Demo Storefront Co. storefront", user=owner, base_url=ops_url,
                token_url=f"{ops_url}/oauth/token", client_id="demo-client",
                client_secret="demo-secret",
            ),
            {"name": "Everything +40%, at least 30% margin", "markup_pct": 40,
             "min_margin_pct": 30, "rounding": Rounding.UP_99},
        ),
        _customer(
            "Demo Production Co.",
            lambda: OMSIntegration.objects.create(
                name="Demo OMS (sandbox)", user=owner, base_url=oms_url,
                api_token="demo-oms-token", store_id="1", team_id="1", country_id="1",
            ),
            {"name": "Everything +35%", "markup_pct": 35, "rounding": Rounding.NONE},
        ),
    ]
    printops = PrintOpsIntegration.objects.filter(name=DEMO_PRINTOPS).first()
    if printops is not None:
        customers.append(_customer(
            "Demo Poster Shop", lambda: printops,
            {"name": "Everything +50%", "markup_pct": 50},
            options={"store_id": DEMO_POSTER_STORE, "scale_option": "fit"},
        ))
    return customers
