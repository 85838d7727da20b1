"""A demo customer whose storefront is the sandbox's OnPrintShop fake, for `make run`."""

from integrations.models import OPSIntegration
from pushes.models import Customer, MarkupRule, Rounding

DEMO_CUSTOMER = "Demo Storefront Co."


def load_demo_customer(owner, sandbox_url):
    ops_url = f"{sandbox_url}/ops"
    customer = Customer.objects.filter(name=DEMO_CUSTOMER).first()
    if customer is None:
        storefront = OPSIntegration.objects.create(
            name=f"{DEMO_CUSTOMER} storefront", user=owner, base_url=ops_url,
            token_url=f"{ops_url}/oauth/token", client_id="demo-client",
            client_secret="demo-secret",
        )
        customer = Customer.objects.create(name=DEMO_CUSTOMER, storefront=storefront)
        MarkupRule.objects.create(
            customer=customer, name="Everything +40%, at least 30% margin", markup_pct=40,
            min_margin_pct=30, rounding=Rounding.UP_99,
        )
    else:
        OPSIntegration.objects.filter(pk=customer.storefront_id).update(
            base_url=ops_url, token_url=f"{ops_url}/oauth/token"
        )
    return customer
