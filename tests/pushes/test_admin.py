import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.ingest import ingest_products
from catalog.models import Product
from integrations.models import OPSIntegration
from pushes.models import (
    CategoryMapping,
    Customer,
    MarkupRule,
    PushBatch,
    PushLog,
    StorefrontProduct,
)
from tests.factories import apparel_payload, print_payload

pytestmark = pytest.mark.django_db

SECRET = "storefront-secret-plain-1"
TOKEN = "storefront-token-plain-2"


@pytest.fixture
def products(supplier):
    result = ingest_products(supplier, [
        apparel_payload("PC54"), apparel_payload("PC61"), print_payload("P1"),
    ])
    assert result.failed == 0, result.errors
    return {product.supplier_sku: product for product in Product.objects.all()}


def make_storefront(user, name="Acme storefront", **fields):
    values = {
        "name": name, "user": user, "base_url": "http://example.test/api",
        "token_url": "http://example.test/oauth/token", "client_id": "client-1",
        "client_secret": SECRET, **fields,
    }
    return OPSIntegration.objects.create(**values)


def make_customer(user, name="Acme Prints", **fields):
    return Customer.objects.create(
        name=name, storefront=make_storefront(user, f"{name} storefront"), **fields
    )


def add_customers(user, product, names):
    """Customers with a rule or two and one of each thing a push leaves behind."""
    for name in names:
        customer = make_customer(user, name)
        MarkupRule.objects.create(customer=customer, markup_pct=40)
        MarkupRule.objects.create(customer=customer, scope="product", product=product,
                                  markup_pct=30)
        batch = PushBatch.objects.create(customer=customer, created_by=user, total=3,
                                         succeeded=1, failed=1)
        PushLog.objects.create(customer=customer, product=product, batch=batch,
                               status=PushLog.Status.FAILED, action=PushLog.Action.FAILED,
                               step="prices", error="The storefront answered 502 " * 10)
        StorefrontProduct.objects.create(customer=customer, product=product,
                                         storefront_product_id="41")
        CategoryMapping.objects.create(customer=customer, category=product.category,
                                       storefront_category_id="7")


def queries_for(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


LIST_PAGES = [
    "admin:pushes_customer_changelist",
    "admin:pushes_markuprule_changelist",
    "admin:pushes_pushlog_changelist",
    "admin:pushes_pushbatch_changelist",
    "admin:pushes_storefrontproduct_changelist",
    "admin:pushes_categorymapping_changelist",
    "admin:integrations_opsintegration_changelist",
]


@pytest.mark.parametrize("page", LIST_PAGES)
def test_each_list_page_opens(admin_client, admin_user, products, page):
    add_customers(admin_user, products["PC54"], ["Acme Prints", "Beacon Signs"])

    assert admin_client.get(reverse(page)).status_code == 200


@pytest.mark.parametrize("page", LIST_PAGES)
def test_each_list_page_runs_as_many_queries_for_12_customers_as_for_2(
    admin_client, admin_user, products, page
):
    url = reverse(page)
    add_customers(admin_user, products["PC54"], ["Customer 0", "Customer 1"])
    admin_client.get(url)
    few = queries_for(admin_client, url)

    add_customers(admin_user, products["PC54"], [f"Customer {n}" for n in range(2, 12)])
    many = queries_for(admin_client, url)

    assert many == few


def test_the_customer_list_shows_the_rule_count_the_last_push_and_the_storefront(
    admin_client, admin_user, products
):
    add_customers(admin_user, products["PC54"], ["Acme Prints"])
    customer = Customer.objects.get()
    last = PushLog.objects.create(customer=customer, product=products["PC61"],
                                  status=PushLog.Status.PUSHED, action=PushLog.Action.CREATED)

    response = admin_client.get(reverse("admin:pushes_customer_changelist"))

    [row] = response.context["cl"].result_list
    assert row.rule_count == 2
    assert row.last_push == last.pushed_at
    storefront_url = reverse(
        "admin:integrations_opsintegration_change", args=[customer.storefront_id]
    )
    assert storefront_url in response.content.decode()


def test_the_customer_page_opens_with_its_rules(admin_client, admin_user, products):
    add_customers(admin_user, products["PC54"], ["Acme Prints"])
    customer = Customer.objects.get()

    response = admin_client.get(reverse("admin:pushes_customer_change", args=[customer.pk]))

    assert response.status_code == 200
    assert len(response.context["inline_admin_formsets"][0].formset.forms) == 2


# -- the order webhook -------------------------------------------------------------------------

WEBHOOK_SECRET = "webhook-secret-plain-3"
WEBHOOK_URL = "https://hooks.example.com/orders"


def raw_webhook_secret(customer):
    """The order webhook secret column as stored, past the field's decryption."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT order_webhook_secret FROM pushes_customer WHERE id = %s",
                       [customer.pk])
        return cursor.fetchone()[0]


def customer_form(customer, **changes):
    """The customer page as it posts, with the secret box left empty."""
    data = {
        "name": customer.name, "is_active": "on", "storefront": "",
        "order_webhook_url": customer.order_webhook_url or "", "order_webhook_secret": "",
        "markup_rules-TOTAL_FORMS": "0", "markup_rules-INITIAL_FORMS": "0",
        "markup_rules-MIN_NUM_FORMS": "0", "markup_rules-MAX_NUM_FORMS": "1000",
    }
    return {**data, **changes}


def customer_url(customer):
    return reverse("admin:pushes_customer_change", args=[customer.pk])


def test_saving_the_customer_page_sets_the_webhook_url_and_encrypts_its_secret(admin_client):
    customer = Customer.objects.create(name="Hooks Co.")

    response = admin_client.post(customer_url(customer), customer_form(
        customer, order_webhook_url=WEBHOOK_URL, order_webhook_secret=WEBHOOK_SECRET))

    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.order_webhook_url == WEBHOOK_URL
    assert customer.order_webhook_secret == WEBHOOK_SECRET
    assert WEBHOOK_SECRET not in raw_webhook_secret(customer)


def test_staff_choose_on_the_customer_page_whether_the_storefront_emails_the_buyer(admin_client):
    customer = Customer.objects.create(name="Hooks Co.")
    page = admin_client.get(customer_url(customer)).content.decode()
    assert 'name="notify_buyer"' in page and "email the buyer on each status change" in page

    response = admin_client.post(customer_url(customer), customer_form(
        customer, notify_buyer="on"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.notify_buyer is True


def test_the_customer_page_shows_neither_the_webhook_secret_nor_its_ciphertext(admin_client):
    customer = Customer.objects.create(name="Hooks Co.", order_webhook_url=WEBHOOK_URL,
                                       order_webhook_secret=WEBHOOK_SECRET)
    stored = raw_webhook_secret(customer)

    page = admin_client.get(customer_url(customer)).content.decode()

    assert "Order webhook URL" in page and WEBHOOK_URL in page
    assert WEBHOOK_SECRET not in page and stored not in page
    assert 'type="password" name="order_webhook_secret"' in page
    assert "A secret is stored; leave empty to keep it." in page


def test_saving_the_customer_page_with_an_empty_secret_box_keeps_the_secret(admin_client):
    customer = Customer.objects.create(name="Hooks Co.", order_webhook_url=WEBHOOK_URL,
                                       order_webhook_secret=WEBHOOK_SECRET)

    response = admin_client.post(customer_url(customer), customer_form(
        customer, name="Hooks Company"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.name == "Hooks Company"
    assert customer.order_webhook_secret == WEBHOOK_SECRET


def test_moving_the_webhook_url_needs_the_secret_again(admin_client):
    customer = Customer.objects.create(name="Hooks Co.", order_webhook_url=WEBHOOK_URL,
                                       order_webhook_secret=WEBHOOK_SECRET)
    elsewhere = "https://elsewhere.example.com/orders"

    refused = admin_client.post(customer_url(customer), customer_form(
        customer, order_webhook_url=elsewhere))

    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert "order_webhook_secret" in errors and "only sent where it was given for" in str(errors)
    customer.refresh_from_db()
    assert customer.order_webhook_url == WEBHOOK_URL

    moved = admin_client.post(customer_url(customer), customer_form(
        customer, order_webhook_url=elsewhere, order_webhook_secret="another-secret"))

    assert moved.status_code == 302, moved.context["adminform"].form.errors
    customer.refresh_from_db()
    assert (customer.order_webhook_url, customer.order_webhook_secret) == (
        elsewhere, "another-secret")


def test_the_stored_webhook_secret_is_removed_only_when_asked(admin_client):
    customer = Customer.objects.create(name="Hooks Co.", order_webhook_url=WEBHOOK_URL,
                                       order_webhook_secret=WEBHOOK_SECRET)

    admin_client.post(customer_url(customer), customer_form(
        customer, remove_order_webhook_secret="on"))

    customer.refresh_from_db()
    assert customer.order_webhook_url == WEBHOOK_URL
    assert not customer.order_webhook_secret


# -- storefronts -------------------------------------------------------------------------------


def raw_client_secret(storefront):
    """The client secret column as stored, past the field's decryption."""
    table = connection.ops.quote_name(OPSIntegration._meta.db_table)
    pk = OPSIntegration._meta.pk.get_db_prep_value(storefront.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT client_secret FROM {table} WHERE integration_ptr_id = %s", [pk])
        return cursor.fetchone()[0]


def storefront_form(storefront, **changes):
    data = {
        "name": storefront.name, "base_url": storefront.base_url,
        "token_url": storefront.token_url, "client_id": storefront.client_id,
        "client_secret": "", "rate_limit_per_minute": storefront.rate_limit_per_minute,
    }
    return {**data, **changes}


def storefront_url(storefront):
    return reverse("admin:integrations_opsintegration_change", args=[storefront.pk])


def test_the_storefront_page_shows_neither_the_secret_its_ciphertext_nor_the_token(
    admin_client, admin_user
):
    storefront = make_storefront(admin_user, token=TOKEN)
    stored = raw_client_secret(storefront)
    assert SECRET not in stored

    page = admin_client.get(storefront_url(storefront)).content.decode()

    for secret in (SECRET, stored, TOKEN):
        assert secret not in page
    assert "A secret is stored" in page


def test_saving_the_storefront_page_with_an_empty_secret_box_keeps_the_secret_and_token(
    admin_client, admin_user
):
    storefront = make_storefront(admin_user, token=TOKEN)

    response = admin_client.post(storefront_url(storefront), storefront_form(
        storefront, rate_limit_per_minute="60"
    ))

    assert response.status_code == 302, response.context["adminform"].form.errors
    storefront.refresh_from_db()
    assert storefront.rate_limit_per_minute == 60
    assert storefront.client_secret == SECRET
    assert storefront.token == TOKEN


def test_a_new_secret_replaces_the_old_one_and_drops_the_cached_token(admin_client, admin_user):
    storefront = make_storefront(admin_user, token=TOKEN)

    admin_client.post(storefront_url(storefront), storefront_form(
        storefront, client_secret="new-secret"
    ))

    storefront.refresh_from_db()
    assert storefront.client_secret == "new-secret"
    assert storefront.token is None


def test_adding_a_storefront_encrypts_the_secret_and_makes_the_admin_its_owner(
    admin_client, admin_user
):
    response = admin_client.post(reverse("admin:integrations_opsintegration_add"), {
        "name": "Corner storefront", "base_url": "http://example.test/api",
        "token_url": "http://example.test/oauth/token", "client_id": "client-9",
        "client_secret": SECRET, "rate_limit_per_minute": "120",
    })

    assert response.status_code == 302, response.context["adminform"].form.errors
    storefront = OPSIntegration.objects.get()
    assert storefront.user == admin_user
    assert storefront.client_secret == SECRET
    assert SECRET not in raw_client_secret(storefront)


# -- markup rules ------------------------------------------------------------------------------


def rule_url(rule, **params):
    url = reverse("admin:pushes_markuprule_change", args=[rule.pk])
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{url}?{query}" if query else url


def test_the_rule_page_previews_a_products_tier_prices_under_the_rule(
    admin_client, admin_user, products
):
    customer = make_customer(admin_user)
    rule = MarkupRule.objects.create(customer=customer, markup_pct=40)

    response = admin_client.get(rule_url(rule, preview_product=products["PC54"].pk))

    assert response.status_code == 200
    page = response.content.decode()
    assert "This rule prices the product." in page
    # 4.58 × 1.4 = 6.412 for 1–11; 4.18 × 1.4 = 5.852 from 12.
    assert "<td>4.58</td><td>6.41</td>" in page
    assert "<td>4.18</td><td>5.85</td>" in page
    assert "12+" in page


def test_the_preview_names_the_rule_that_applies_when_it_is_not_this_one(
    admin_client, admin_user, products
):
    customer = make_customer(admin_user)
    rule = MarkupRule.objects.create(customer=customer, markup_pct=40)
    product_rule = MarkupRule.objects.create(
        customer=customer, name="Tee special", scope="product", product=products["PC54"],
        markup_pct=50,
    )

    page = admin_client.get(rule_url(rule, preview_product=products["PC54"].pk)).content.decode()

    assert "This rule does not price the product" in page
    assert rule_url(product_rule) in page
    # The price that applies (4.58 × 1.5), then the one this rule would give.
    assert "<td>4.58</td><td>6.87</td><td>6.41</td>" in page


def test_the_preview_of_a_product_no_rule_covers_says_it_is_not_pushed(
    admin_client, admin_user, products
):
    customer = make_customer(admin_user)
    rule = MarkupRule.objects.create(customer=customer, scope="product",
                                     product=products["PC61"], markup_pct=40)

    page = admin_client.get(rule_url(rule, preview_product=products["PC54"].pk)).content.decode()

    assert "No markup rule of Acme Prints covers PC54" in page
    assert "it will not be pushed at cost" in page


def test_the_preview_of_an_unknown_product_says_so(admin_client, admin_user):
    rule = MarkupRule.objects.create(customer=make_customer(admin_user), markup_pct=40)

    response = admin_client.get(rule_url(rule, preview_product="not-an-id"))

    assert response.status_code == 200
    assert response.context["preview_form"].errors
    assert "preview" not in response.context


def test_a_rule_whose_scope_lacks_its_target_is_refused_with_the_reason(
    admin_client, admin_user, products
):
    customer = make_customer(admin_user)

    response = admin_client.post(reverse("admin:pushes_markuprule_add"), {
        "customer": customer.pk, "name": "", "is_active": "on", "priority": "0",
        "scope": "category", "product": products["PC54"].pk, "markup_pct": "40",
        "rounding": "none",
    })

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["category"] == ["A category rule needs a category."]
    assert errors["product"] == ["Only a product rule has a product; leave it empty."]
    assert not MarkupRule.objects.exists()


@pytest.mark.parametrize("changes, field", [
    ({"markup_pct": "-100"}, "markup_pct"),
    ({"markup_pct": "-150", "markup_amount": "5"}, "markup_pct"),
    ({"max_price": "0"}, "max_price"),
    ({"min_price": "10", "max_price": "9.99"}, "max_price"),
])
def test_a_rule_that_sells_for_nothing_is_refused_in_the_admin_too(
    admin_client, admin_user, changes, field
):
    customer = make_customer(admin_user)

    response = admin_client.post(reverse("admin:pushes_markuprule_add"), {
        "customer": customer.pk, "name": "", "is_active": "on", "priority": "0",
        "scope": "all", "markup_pct": "40", "rounding": "none", **changes,
    })

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not MarkupRule.objects.filter(customer=customer).exists()


# -- pushing from the product list -------------------------------------------------------------


def push_action(client, products, **extra):
    return client.post(reverse("admin:catalog_product_changelist"), {
        "action": "push_to_customer",
        "_selected_action": [str(product.pk) for product in products],
        **extra,
    }, follow=True)


def test_pushing_products_asks_for_an_active_customer_with_a_storefront(
    admin_client, admin_user, products
):
    make_customer(admin_user, "Acme Prints")
    make_customer(admin_user, "Closed Shop", is_active=False)
    Customer.objects.create(name="No Storefront")

    response = push_action(admin_client, [products["PC54"]])

    assert response.status_code == 200
    choices = response.context["form"].fields["customer"].queryset
    assert [customer.name for customer in choices] == ["Acme Prints"]
    assert "1 product to push" in response.content.decode()
    assert not PushBatch.objects.exists()


def test_pushing_products_to_a_customer_queues_a_batch_and_reports_it(
    admin_client, admin_user, products, django_capture_on_commit_callbacks
):
    customer = make_customer(admin_user)
    products["P1"].archive()
    chosen = [products["PC54"], products["PC61"], products["P1"]]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = push_action(admin_client, chosen, post="yes", customer=customer.pk)

    batch = PushBatch.objects.get()
    assert batch.customer == customer
    assert batch.total == 2
    assert batch.created_by == admin_user
    assert len(callbacks) == 2
    assert (
        f"Queued 2 products for Acme Prints (batch {batch.pk}); 1 archived left out."
        in response.content.decode()
    )


def test_pushing_every_matching_product_sends_all_of_them_not_only_the_page(
    admin_client, admin_user, products, django_capture_on_commit_callbacks
):
    customer = make_customer(admin_user)

    with django_capture_on_commit_callbacks(execute=False):
        asked = push_action(admin_client, [products["PC54"]], select_across="1")
        push_action(admin_client, [products["PC54"]], select_across="1", post="yes",
                    customer=customer.pk)

    assert "3 products to push" in asked.content.decode()
    assert PushBatch.objects.get().total == 3


# -- the push log --------------------------------------------------------------------------------


def failed_log(customer, product):
    return PushLog.objects.create(customer=customer, product=product,
                                  status=PushLog.Status.FAILED, action=PushLog.Action.FAILED,
                                  step="prices", error="The storefront answered 502")


def retry_action(client, logs):
    return client.post(reverse("admin:pushes_pushlog_changelist"), {
        "action": "retry_failed", "_selected_action": [str(log.pk) for log in logs],
    }, follow=True)


def test_retrying_failed_pushes_queues_them_and_refuses_an_inactive_customers_with_the_reason(
    admin_client, admin_user, products, django_capture_on_commit_callbacks
):
    customer = make_customer(admin_user)
    closed = make_customer(admin_user, "Closed Shop", is_active=False)
    logs = [
        failed_log(customer, products["PC54"]),
        failed_log(customer, products["PC54"]),  # the same pair: retried once
        failed_log(closed, products["PC61"]),
        PushLog.objects.create(customer=customer, product=products["P1"],
                               status=PushLog.Status.PUSHED, action=PushLog.Action.CREATED),
    ]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = retry_action(admin_client, logs)

    assert len(callbacks) == 1
    assert (
        "Queued 1 retry; 1 refused (Customer Closed Shop is inactive; nothing is pushed to it)."
        in response.content.decode()
    )


def test_retrying_is_not_offered_to_staff_who_may_only_read_the_log(client, products):
    reader = get_user_model().objects.create_user("log reader", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_pushlog"))
    client.force_login(reader)

    response = client.get(reverse("admin:pushes_pushlog_changelist"))

    assert response.status_code == 200
    assert "retry_failed" not in response.content.decode()


def test_the_push_log_can_be_read_but_not_added_changed_or_deleted(
    admin_client, admin_user, products
):
    log = failed_log(make_customer(admin_user), products["PC54"])
    change_url = reverse("admin:pushes_pushlog_change", args=[log.pk])

    assert admin_client.get(change_url).status_code == 200
    assert admin_client.get(reverse("admin:pushes_pushlog_add")).status_code == 403
    assert admin_client.post(change_url, {"status": "pushed"}).status_code == 403
    delete_url = reverse("admin:pushes_pushlog_delete", args=[log.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert PushLog.objects.get().status == PushLog.Status.FAILED


@pytest.mark.parametrize("model", [PushBatch, StorefrontProduct, CategoryMapping])
def test_what_the_pushes_write_can_be_read_but_not_added_or_changed(
    admin_client, admin_user, products, model
):
    add_customers(admin_user, products["PC54"], ["Acme Prints"])
    row = model.objects.get()
    name = f"admin:pushes_{model._meta.model_name}"

    assert admin_client.get(reverse(f"{name}_change", args=[row.pk])).status_code == 200
    assert admin_client.get(reverse(f"{name}_add")).status_code == 403
    assert admin_client.post(reverse(f"{name}_change", args=[row.pk]), {}).status_code == 403


def test_a_batch_links_to_its_push_logs(admin_client, admin_user, products):
    add_customers(admin_user, products["PC54"], ["Acme Prints", "Beacon Signs"])
    batch = PushBatch.objects.get(customer__name="Acme Prints")

    page = admin_client.get(reverse("admin:pushes_pushbatch_changelist")).content.decode()
    logs_url = f"{reverse('admin:pushes_pushlog_changelist')}?batch__id__exact={batch.pk}"
    response = admin_client.get(logs_url)

    assert logs_url in page
    assert response.status_code == 200
    assert [log.batch_id for log in response.context["cl"].result_list] == [batch.pk]


# -- the task queue is down --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_pushing_from_the_admin_with_the_broker_down_says_so_and_starts_nothing(
    admin_client, admin_user, products, broker_down
):
    customer = make_customer(admin_user)
    failed_log(customer, products["P1"])

    pushed = push_action(admin_client, [products["PC54"]], post="yes", customer=customer.pk)
    retried = retry_action(admin_client, PushLog.objects.all())

    for response in (pushed, retried):
        assert response.status_code == 200
        assert "The task queue is unavailable" in response.content.decode()
    assert not PushBatch.objects.exists()
    assert PushLog.objects.count() == 1
