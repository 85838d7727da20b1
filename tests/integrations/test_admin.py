import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from integrations.models import (
    ImportTask,
    Integration,
    Organization,
    OVSIntegration,
    SyncRun,
    SyncStatus,
    WebhookEvent,
)
from integrations.services import create_integration

pytestmark = pytest.mark.django_db

PASSWORD = "ovs-password-plain-1"
API_KEY = "push-key-plain-2"


def make_integration(name="Northwind OVS", **fields):
    user = get_user_model().objects.get_or_create(username=f"owner of {name}")[0]
    organization = Organization.objects.get_or_create(name=f"Org of {name}")[0]
    organization.members.add(user)
    values = {
        "name": name, "user": user, "organization": organization,
        "base_url": "https://ovs.example.com", "username": "api-user", "password": PASSWORD,
        "push_service_api_key": API_KEY, **fields,
    }
    return create_integration(OVSIntegration, **values)


def raw_secrets(integration):
    """The password and API key columns as stored, past the field's decryption."""
    table = OVSIntegration._meta.db_table
    pk = OVSIntegration._meta.pk.get_db_prep_value(integration.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT password, push_service_api_key FROM {connection.ops.quote_name(table)} "
            "WHERE integration_ptr_id = %s",
            [pk],
        )
        return cursor.fetchone()


def change_url(integration):
    return reverse("admin:integrations_ovsintegration_change", args=[integration.pk])


def change_form(integration, **changes):
    """The change form as the page posts it, with the secret boxes left empty."""
    data = {
        "name": integration.name, "user": integration.user_id,
        "organization": integration.organization_id or "",
        "base_url": integration.base_url, "username": integration.username,
        "password": "", "push_service_base_url": integration.push_service_base_url or "",
        "push_service_api_key": "",
        "schedule_enabled": "on", "schedule_every_minutes": "360", "schedule_crontab": "",
        "import_tasks-TOTAL_FORMS": "0", "import_tasks-INITIAL_FORMS": "0",
        "import_tasks-MIN_NUM_FORMS": "0", "import_tasks-MAX_NUM_FORMS": "0",
        "sync_runs-TOTAL_FORMS": "0", "sync_runs-INITIAL_FORMS": "0",
        "sync_runs-MIN_NUM_FORMS": "0", "sync_runs-MAX_NUM_FORMS": "0",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def queries_for(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


LIST_PAGES = [
    "admin:integrations_organization_changelist",
    "admin:integrations_ovsintegration_changelist",
    "admin:integrations_importtask_changelist",
]


@pytest.mark.parametrize("page", LIST_PAGES)
def test_each_list_page_opens(admin_client, page):
    integration = make_integration()
    ImportTask.objects.create(integration=integration, owner=integration.user,
                              product_codes=["A-1", "B-2"], total_items=2, processed_items=1)

    assert admin_client.get(reverse(page)).status_code == 200


@pytest.mark.parametrize("page", LIST_PAGES)
def test_each_list_page_runs_as_many_queries_for_12_integrations_as_for_2(admin_client, page):
    def add(names):
        for name in names:
            integration = make_integration(name)
            ImportTask.objects.create(integration=integration, owner=integration.user,
                                      product_codes=["A-1"], total_items=1)

    url = reverse(page)
    add(["Integration 0", "Integration 1"])
    admin_client.get(url)
    few = queries_for(admin_client, url)

    add([f"Integration {n}" for n in range(2, 12)])
    many = queries_for(admin_client, url)

    assert many == few


def test_the_organization_list_shows_the_member_count(admin_client):
    organization = Organization.objects.create(name="Corner Print Shop")
    users = get_user_model().objects
    organization.members.add(users.create(username="ann"), users.create(username="bob"))

    response = admin_client.get(reverse("admin:integrations_organization_changelist"))

    assert response.context["cl"].result_list[0].member_count == 2


def test_adding_an_integration_creates_its_supplier_and_schedule_and_encrypts_the_password(
    admin_client, admin_user
):
    response = admin_client.post(reverse("admin:integrations_ovsintegration_add"), {
        "name": "Westwind OVS", "user": admin_user.pk, "base_url": "https://ovs.example.com",
        "username": "api-user", "password": PASSWORD, "push_service_api_key": API_KEY,
        "schedule_enabled": "on", "schedule_every_minutes": "45", "schedule_crontab": "",
    })

    assert response.status_code == 302, response.context["adminform"].form.errors
    integration = OVSIntegration.objects.get()
    assert integration.supplier.name == "Westwind OVS"
    assert integration.schedule.enabled
    assert integration.schedule.interval.every == 45
    assert integration.password == PASSWORD
    assert integration.push_service_api_key == API_KEY
    stored_password, stored_key = raw_secrets(integration)
    assert PASSWORD not in stored_password
    assert API_KEY not in stored_key


def test_adding_an_integration_without_a_password_is_refused(admin_client, admin_user):
    response = admin_client.post(reverse("admin:integrations_ovsintegration_add"), {
        "name": "Westwind OVS", "user": admin_user.pk, "base_url": "https://ovs.example.com",
        "username": "api-user", "password": "",
        "schedule_enabled": "on", "schedule_every_minutes": "45",
    })

    assert response.status_code == 200
    assert "password" in response.context["adminform"].form.errors
    assert not OVSIntegration.objects.exists()


def test_the_change_page_shows_neither_the_secrets_nor_their_ciphertext(admin_client):
    integration = make_integration(token="access-token-plain-3")
    stored_password, stored_key = raw_secrets(integration)

    page = admin_client.get(change_url(integration)).content.decode()

    for secret in (PASSWORD, API_KEY, "access-token-plain-3", stored_password, stored_key):
        assert secret not in page
    assert "A password is stored" in page


def test_saving_the_change_page_with_empty_secret_boxes_keeps_the_secrets(admin_client):
    integration = make_integration()

    response = admin_client.post(change_url(integration), change_form(
        integration, name="Renamed OVS"
    ))

    assert response.status_code == 302, response.context["adminform"].form.errors
    integration.refresh_from_db()
    assert integration.name == "Renamed OVS"
    assert integration.password == PASSWORD
    assert integration.push_service_api_key == API_KEY


def test_a_new_password_typed_on_the_change_page_replaces_the_old_one(admin_client):
    integration = make_integration()

    admin_client.post(change_url(integration), change_form(integration, password="new-pass"))

    integration.refresh_from_db()
    assert integration.password == "new-pass"
    assert integration.push_service_api_key == API_KEY


def test_the_stored_api_key_can_be_removed(admin_client):
    integration = make_integration()

    admin_client.post(change_url(integration), change_form(
        integration, remove_push_service_api_key="on"
    ))

    integration.refresh_from_db()
    assert integration.push_service_api_key is None
    assert integration.password == PASSWORD


def test_the_schedule_fields_start_from_the_integrations_schedule(admin_client):
    integration = make_integration()

    form = admin_client.get(change_url(integration)).context["adminform"].form

    assert form.initial["schedule_enabled"] is True
    assert form.initial["schedule_every_minutes"] == integration.schedule.interval.every


def test_the_schedule_fields_change_the_interval(admin_client):
    integration = make_integration()

    admin_client.post(change_url(integration), change_form(
        integration, schedule_every_minutes="15"
    ))

    schedule = OVSIntegration.objects.get().schedule
    assert schedule.interval.every == 15
    assert schedule.interval.period == "minutes"
    assert schedule.crontab is None
    assert schedule.enabled


def test_a_crontab_replaces_the_interval(admin_client):
    integration = make_integration()

    admin_client.post(change_url(integration), change_form(
        integration, schedule_every_minutes="", schedule_crontab="30  2 * * 1-5"
    ))

    schedule = OVSIntegration.objects.get().schedule
    assert schedule.interval is None
    tab = schedule.crontab
    assert [tab.minute, tab.hour, tab.day_of_month, tab.month_of_year, tab.day_of_week] == [
        "30", "2", "*", "*", "1-5"
    ]
    form = admin_client.get(change_url(integration)).context["adminform"].form
    assert form.initial["schedule_crontab"] == "30 2 * * 1-5"


def test_unticking_the_schedule_disables_it(admin_client):
    integration = make_integration()

    admin_client.post(change_url(integration), change_form(integration, schedule_enabled=None))

    assert not OVSIntegration.objects.get().schedule.enabled


@pytest.mark.parametrize("changes, field", [
    ({"schedule_every_minutes": "", "schedule_crontab": "30 2 * *"}, "schedule_crontab"),
    ({"schedule_every_minutes": "", "schedule_crontab": "99 2 * * *"}, "schedule_crontab"),
    ({"schedule_every_minutes": "60", "schedule_crontab": "0 3 * * *"}, "schedule_crontab"),
    ({"schedule_every_minutes": "", "schedule_crontab": ""}, "schedule_every_minutes"),
])
def test_a_schedule_that_is_not_one_interval_or_one_valid_crontab_is_refused(
    admin_client, changes, field
):
    integration = make_integration()
    before = integration.schedule.interval.every

    response = admin_client.post(change_url(integration), change_form(integration, **changes))

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    schedule = OVSIntegration.objects.get().schedule
    assert schedule.interval.every == before
    assert schedule.crontab is None


def test_the_change_page_links_to_the_scheduled_task(admin_client):
    integration = make_integration()

    page = admin_client.get(change_url(integration)).content.decode()

    assert reverse(
        "admin:django_celery_beat_periodictask_change", args=[integration.schedule_id]
    ) in page


def sync_action(client, action, *integrations):
    return client.post(
        reverse("admin:integrations_ovsintegration_changelist"),
        {"action": action, "_selected_action": [str(i.pk) for i in integrations]},
        follow=True,
    )


def test_sync_now_claims_the_integration_and_queues_its_sync(
    admin_client, django_capture_on_commit_callbacks
):
    integration = make_integration()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = sync_action(admin_client, "sync_now", integration)

    assert "Queued 1 sync." in response.content.decode()
    assert len(callbacks) == 1
    integration.refresh_from_db()
    assert integration.sync_status == SyncStatus.RUNNING
    assert integration.sync_run_id is not None
    assert integration.sync_full is False


def test_sync_now_on_a_running_integration_says_it_is_already_running(
    admin_client, django_capture_on_commit_callbacks
):
    integration = make_integration()
    other = make_integration("Eastwind OVS")

    with django_capture_on_commit_callbacks(execute=False):
        sync_action(admin_client, "sync_now", integration)
    run_id = Integration.objects.get(pk=integration.pk).sync_run_id
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = sync_action(admin_client, "full_sync_now", integration, other)

    assert "Queued 1 full sync; 1 already running (Northwind OVS)." in (
        response.content.decode())
    assert len(callbacks) == 1
    assert Integration.objects.get(pk=integration.pk).sync_run_id == run_id
    assert Integration.objects.get(pk=other.pk).sync_full is True


def test_the_integration_page_lists_its_latest_imports_newest_first(admin_client):
    integration = make_integration()
    for n in range(25):
        ImportTask.objects.create(integration=integration, owner=integration.user,
                                  product_codes=[f"CODE-{n}"], total_items=1)
    newest = ImportTask.objects.order_by("-created_at", "-id").first()

    response = admin_client.get(change_url(integration))

    formset = next(inline.formset for inline in response.context["inline_admin_formsets"]
                   if inline.formset.model is ImportTask)
    assert len(formset.forms) == 20
    assert formset.forms[0].instance == newest
    assert reverse("admin:integrations_importtask_change", args=[newest.pk]) in (
        response.content.decode()
    )


def test_saving_an_integration_with_imports_leaves_the_imports_alone(admin_client):
    integration = make_integration()
    task = ImportTask.objects.create(integration=integration, owner=integration.user,
                                     product_codes=["A-1"], total_items=1)

    response = admin_client.post(change_url(integration), change_form(
        integration, **{
            "import_tasks-TOTAL_FORMS": "1", "import_tasks-INITIAL_FORMS": "1",
            "import_tasks-0-id": str(task.pk),
            "import_tasks-0-integration": str(integration.pk),
        }
    ))

    assert response.status_code == 302
    assert ImportTask.objects.get().status == ImportTask.Status.PENDING


def test_an_import_can_be_read_but_not_added_changed_or_deleted(admin_client):
    integration = make_integration()
    task = ImportTask.objects.create(integration=integration, owner=integration.user,
                                     product_codes=["A-1"], total_items=1)
    url = reverse("admin:integrations_importtask_change", args=[task.pk])

    page = admin_client.get(url)
    assert page.status_code == 200
    assert change_url(integration) in page.content.decode()
    assert admin_client.get(reverse("admin:integrations_importtask_add")).status_code == 403
    assert admin_client.post(url, {"status": "SUCCESS"}).status_code == 403
    delete_url = reverse("admin:integrations_importtask_delete", args=[task.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert ImportTask.objects.get().status == ImportTask.Status.PENDING


def test_webhook_payloads_and_sync_stats_read_as_tables_with_the_raw_json_behind_a_toggle(
    admin_client,
):
    integration = make_integration()
    Integration.objects.filter(pk=integration.pk).update(
        sync_status="completed", last_sync_stats={"created": 12, "failed": 1})
    event = WebhookEvent.objects.create(
        integration=integration, event_type="order_shipment",
        payload={"order_id": 77, "tracking": [{"carrier": "UPS", "number": "1Z9"}]})

    page = admin_client.get(change_url(integration)).content.decode()
    assert "<th>created</th><td>12</td>" in page and "Raw JSON" in page

    page = admin_client.get(
        reverse("admin:integrations_webhookevent_change", args=[event.pk])).content.decode()
    assert "<th>order id</th><td>77</td>" in page
    assert "<th>carrier</th>" in page and "<td>UPS</td>" in page
    assert "<summary>Raw JSON</summary>" in page


def test_the_run_history_says_where_each_runs_time_went(admin_client):
    integration = make_integration()
    SyncRun.objects.create(
        id=uuid.uuid4(), integration=integration, full=True, status="completed",
        started_at=timezone.now(), finished_at=timezone.now(), created=40,
        phase_seconds={"fetch": 1.25, "map": 0.5, "ingest": 3.0, "publish": 0.012},
    )
    SyncRun.objects.create(id=uuid.uuid4(), integration=integration, started_at=timezone.now())

    page = admin_client.get(change_url(integration)).content.decode()

    assert "Time spent" in page
    assert "fetch 1.25 s, map 0.5 s, ingest 3.0 s, publish 0.012 s" in page


@pytest.mark.django_db(transaction=True)
def test_sync_now_with_the_broker_down_says_so_and_claims_nothing(admin_client, broker_down):
    integration = make_integration()

    response = sync_action(admin_client, "sync_now", integration)

    assert "The task queue is unavailable" in response.content.decode()
    assert "Queued 0 syncs." in response.content.decode()
    assert Integration.objects.get(pk=integration.pk).sync_status == SyncStatus.IDLE
