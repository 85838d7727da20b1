"""Admin pages for organizations, integrations and their imports.

Secrets are write-only: the password and the API key fields are never filled in when a
page is shown, and leaving one empty on a change keeps what is stored. The access token
is never shown. Every list page reads its rows in a constant number of queries.
"""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django_celery_beat.validators import crontab_validator

from catalog.admin import count_of
from hub.admin import ReadOnlyAdmin
from hub.queue import QueueUnavailable
from integrations.models import (
    INTEGRATION_MODELS,
    ImportTask,
    OMSIntegration,
    OPSIntegration,
    Organization,
    OVSIntegration,
    PrintOpsIntegration,
    PrintOpsShippingMethod,
    WebhookEvent,
)
from integrations.printops.client import PrintOpsError
from integrations.printops.webhooks import register_webhooks, webhook_url
from integrations.schedules import ensure_schedule
from integrations.services import create_integration, trigger_sync

LATEST_IMPORTS = 20

SYNC_STATE_FIELDS = [
    "sync_status", "progress", "last_sync_at", "last_successful_sync_at",
    "total_products_synced", "total_products_updated", "total_products_skipped",
    "last_sync_stats", "last_error_message",
]


# -- organizations -----------------------------------------------------------------------


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count", "created_at"]
    search_fields = ["name"]
    filter_horizontal = ["members"]
    readonly_fields = ["created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            member_count=count_of(Organization.members.through, "organization")
        )

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, organization):
        return organization.member_count


# -- integrations ------------------------------------------------------------------------


def secret_field(label):
    """A password box that is never filled in with what is stored."""
    return forms.CharField(
        label=label, strip=False, required=False,
        widget=forms.PasswordInput(render_value=False),
    )


class WriteOnlySecretsForm(forms.ModelForm):
    """A form whose secrets are write-only: never put back into the page, kept when left empty.

    `secrets` maps each secret field to what it is called in the help text; the ones in
    `required_secrets` must be given when the row is added.
    """

    secrets = {}
    required_secrets = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        adding = self.instance._state.adding
        for name, noun in self.secrets.items():
            self.initial.pop(name, None)
            self.fields[name].required = adding and name in self.required_secrets
            if not adding and getattr(self.instance, name):
                self.fields[name].help_text = f"A {noun} is stored; leave empty to keep it."

    def clean(self):
        data = super().clean()
        changes = {name: data[name] for name in self.changed_data if name in data}
        changes.update((name, None) for name in self.removed_secrets())
        try:
            self.instance.check_secret_destinations(changes)
        except ValidationError as exc:
            self.add_error(None, exc)
        for name in self.secrets:
            if name in data and not data[name]:
                data[name] = getattr(self.instance, name)
        return data

    def removed_secrets(self):
        """The stored secrets this change removes."""
        return []


def schedule_minutes(interval):
    """An interval schedule in whole minutes (None when shorter than a minute)."""
    minutes = timedelta(**{interval.period: interval.every}) // timedelta(minutes=1)
    return minutes or None


class OVSIntegrationForm(WriteOnlySecretsForm):
    secrets = {"password": "password", "push_service_api_key": "key"}
    required_secrets = ("password",)
    password = secret_field("Password")
    push_service_api_key = secret_field("Push service API key")
    remove_push_service_api_key = forms.BooleanField(
        label="Remove the stored API key", required=False
    )
    schedule_enabled = forms.BooleanField(label="Sync on a schedule", required=False)
    schedule_every_minutes = forms.IntegerField(
        label="Every (minutes)", min_value=1, required=False,
        help_text="Sync this often; leave empty when a crontab is given.",
    )
    schedule_crontab = forms.CharField(
        label="Crontab", required=False,
        help_text='"minute hour day-of-month month day-of-week" in UTC, e.g. "0 3 * * *" '
                  "for every night at 03:00. Replaces the interval.",
    )

    class Meta:
        model = OVSIntegration
        fields = [
            "name", "user", "organization", "base_url", "username", "password",
            "push_products", "push_service_base_url", "push_service_api_key",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.update(self.schedule_initial())

    def schedule_initial(self):
        schedule = self.instance.schedule if self.instance.schedule_id else None
        if schedule is None:
            return {
                "schedule_enabled": True,
                "schedule_every_minutes": settings.DEFAULT_SYNC_INTERVAL_MINUTES,
            }
        initial = {"schedule_enabled": schedule.enabled}
        if schedule.crontab_id:
            tab = schedule.crontab
            initial["schedule_crontab"] = " ".join([
                tab.minute, tab.hour, tab.day_of_month, tab.month_of_year, tab.day_of_week,
            ])
        elif schedule.interval_id:
            initial["schedule_every_minutes"] = schedule_minutes(schedule.interval)
        return initial

    def clean_schedule_crontab(self):
        crontab = " ".join(self.cleaned_data["schedule_crontab"].split())
        if not crontab:
            return ""
        if len(crontab.split()) != 5:
            raise ValidationError(
                "A crontab has five fields: minute hour day-of-month month day-of-week."
            )
        crontab_validator(crontab)
        return crontab

    def removed_secrets(self):
        return ["push_service_api_key"] if self.cleaned_data.get(
            "remove_push_service_api_key") else []

    def clean(self):
        data = super().clean()
        if data.get("remove_push_service_api_key"):
            data["push_service_api_key"] = None
        every_minutes = data.get("schedule_every_minutes")
        crontab = data.get("schedule_crontab")
        if "schedule_crontab" in self.errors or "schedule_every_minutes" in self.errors:
            return data
        if every_minutes and crontab:
            raise ValidationError(
                {"schedule_crontab": "Give either an interval or a crontab, not both."}
            )
        if not every_minutes and not crontab:
            raise ValidationError(
                {"schedule_every_minutes": "Give an interval in minutes or a crontab."}
            )
        return data


class LatestImportsFormSet(BaseInlineFormSet):
    def get_queryset(self):
        if not hasattr(self, "_latest"):
            self._latest = super().get_queryset()[:LATEST_IMPORTS]
        return self._latest


class ImportTaskColumns:
    """How an import task's progress reads, on the integration page and its own."""

    @admin.display(description="Progress")
    def progress(self, task):
        return f"{task.progress}%"

    @admin.display(description="Processed")
    def items(self, task):
        return f"{task.processed_items}/{task.total_items}"

    @admin.display(description="Codes")
    def product_codes_count(self, task):
        return task.product_codes_count


class ImportTaskInline(ImportTaskColumns, admin.TabularInline):
    model = ImportTask
    formset = LatestImportsFormSet
    verbose_name_plural = f"Latest imports (the last {LATEST_IMPORTS}, newest first)"
    fields = [
        "status", "progress", "items", "product_codes_count", "error_message",
        "created_at", "completed_at",
    ]
    readonly_fields = fields
    show_change_link = True
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-created_at", "-id").defer("result_data")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False



@admin.register(OVSIntegration)
class OVSIntegrationAdmin(admin.ModelAdmin):
    form = OVSIntegrationForm
    list_display = [
        "name", "integration_type", "user", "organization", "supplier", "sync_status",
        "last_sync_at", "last_successful_sync_at", "progress",
    ]
    list_filter = ["sync_status", "organization"]
    list_select_related = ["user", "organization", "supplier"]
    search_fields = ["name", "base_url"]
    autocomplete_fields = ["user", "organization"]
    actions = ["sync_now", "full_sync_now"]

    def get_fieldsets(self, request, obj=None):
        main = ["name", "user", "organization", "base_url"]
        connection = ["username", "password"]
        pushing = ["push_products", "push_service_base_url", "push_service_api_key"]
        schedule = ["schedule_enabled", "schedule_every_minutes", "schedule_crontab"]
        if obj is None:
            sync_state = []
        else:
            main.append("supplier")
            connection.append("token_status")
            if obj.push_service_api_key:
                pushing.append("remove_push_service_api_key")
            schedule.append("schedule_link")
            sync_state = [("Sync state", {"fields": SYNC_STATE_FIELDS})]
        return [
            (None, {"fields": main}),
            ("Connection", {"fields": connection}),
            ("Pushing products", {"fields": pushing}),
            ("Schedule", {"fields": schedule}),
            *sync_state,
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["supplier", "token_status", "schedule_link", *SYNC_STATE_FIELDS]

    def get_inlines(self, request, obj):
        return [] if obj is None else [ImportTaskInline]

    def get_changeform_initial_data(self, request):
        return {"user": request.user.pk, **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        else:
            # Through the service, so the integration gets its supplier and its schedule.
            created = create_integration(OVSIntegration, **{
                field.name: getattr(obj, field.name)
                for field in obj._meta.concrete_fields if field.name in form.fields
            })
            obj.pk = created.pk
            obj.refresh_from_db()
            obj._state.adding = False
        data = form.cleaned_data
        ensure_schedule(
            obj,
            every_minutes=None if data["schedule_crontab"] else data["schedule_every_minutes"],
            crontab=data["schedule_crontab"] or None,
            enabled=data["schedule_enabled"],
        )

    @admin.display(description="Progress")
    def progress(self, integration):
        return f"{integration.sync_progress}%"

    @admin.display(description="Access token")
    def token_status(self, integration):
        if integration.token and integration.token_expires_at:
            expires_at = timezone.localtime(integration.token_expires_at)
            return f"Cached until {date_format(expires_at, 'DATETIME_FORMAT')}"
        return "None cached"

    @admin.display(description="Scheduled task")
    def schedule_link(self, integration):
        if not integration.schedule_id:
            return "None"
        opts = integration.schedule._meta
        url = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change", args=[integration.schedule_id]
        )
        return format_html('<a href="{}">{}</a>', url, integration.schedule)

    @admin.action(description="Sync now (changes since the last sync)")
    def sync_now(self, request, queryset):
        self.queue_syncs(request, queryset, full=False)

    @admin.action(description="Full sync now")
    def full_sync_now(self, request, queryset):
        self.queue_syncs(request, queryset, full=True)

    def queue_syncs(self, request, queryset, *, full):
        queued, running = 0, []
        for pk, name in queryset.values_list("pk", "name"):
            try:
                run_id = trigger_sync(pk, full=full)
            except QueueUnavailable as exc:
                self.message_user(request, f"{name}: {exc}", messages.ERROR)
                break
            if run_id is None:
                running.append(name)
                continue
            queued += 1
        message = f"Queued {queued} sync{pluralize(queued)}"
        if running:
            message += f"; {len(running)} already running ({', '.join(running)})"
        self.message_user(request, f"{message}.", messages.SUCCESS if queued else messages.WARNING)


# -- storefronts ---------------------------------------------------------------------------


class OPSIntegrationForm(WriteOnlySecretsForm):
    secrets = {"client_secret": "secret"}
    required_secrets = ("client_secret",)
    client_secret = secret_field("Client secret")

    # Changing any of these makes the cached access token useless: it was issued for
    # another server, client or secret.
    CONNECTION_FIELDS = ("base_url", "token_url", "client_id")

    class Meta:
        model = OPSIntegration
        fields = [
            "name", "base_url", "token_url", "client_id", "client_secret",
            "rate_limit_per_minute",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored_secret = (
            None if self.instance._state.adding else self.instance.client_secret
        )

    def connection_changed(self):
        return bool(set(self.CONNECTION_FIELDS) & set(self.changed_data)) or (
            self.cleaned_data["client_secret"] != self.stored_secret
        )


@admin.register(OPSIntegration)
class OPSIntegrationAdmin(admin.ModelAdmin):
    """A customer's storefront: where its products are pushed. The token is never shown."""

    form = OPSIntegrationForm
    list_display = ["name", "base_url", "client_id", "rate_limit_per_minute", "user"]
    list_select_related = ["user"]
    search_fields = ["name", "base_url", "client_id"]
    token_status = OVSIntegrationAdmin.token_status

    def get_fieldsets(self, request, obj=None):
        main = ["name", "base_url"]
        connection = ["token_url", "client_id", "client_secret", "rate_limit_per_minute"]
        if obj is not None:
            main.append("user")
            connection.append("token_status")
        return [(None, {"fields": main}), ("Connection", {"fields": connection})]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["user", "token_status"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.user = request.user
        elif form.connection_changed():
            obj.token = obj.token_expires_at = None
        super().save_model(request, obj, form, change)


class OMSIntegrationForm(WriteOnlySecretsForm):
    secrets = {"api_token": "token"}
    required_secrets = ("api_token",)
    api_token = secret_field("API token")

    class Meta:
        model = OMSIntegration
        fields = [
            "name", "base_url", "api_token", "store_id", "team_id", "country_id",
            "default_dpi", "default_location",
        ]



@admin.register(OMSIntegration)
class OMSIntegrationAdmin(admin.ModelAdmin):
    """An order management system used as a customer's storefront. The token is never shown."""

    form = OMSIntegrationForm
    list_display = ["name", "base_url", "store_id", "team_id", "country_id", "user"]
    list_select_related = ["user"]
    search_fields = ["name", "base_url", "store_id"]

    def get_fieldsets(self, request, obj=None):
        main = ["name", "base_url"]
        if obj is not None:
            main.append("user")
        return [
            (None, {"fields": main}),
            ("Connection", {"fields": ["api_token", "store_id"]}),
            ("Defaults of every product and variant", {
                "fields": ["team_id", "country_id", "default_dpi", "default_location"],
            }),
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["user"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.user = request.user
        super().save_model(request, obj, form, change)


# -- PrintOps ------------------------------------------------------------------------------

LATEST_WEBHOOK_EVENTS = 20


class PrintOpsIntegrationForm(WriteOnlySecretsForm):
    secrets = {"api_token": "token"}
    required_secrets = ("api_token",)
    api_token = secret_field("API token")

    class Meta:
        model = PrintOpsIntegration
        fields = ["name", "user", "organization", "base_url", "api_token"]



class ReadOnlyInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PrintOpsShippingMethodInline(ReadOnlyInline):
    model = PrintOpsShippingMethod
    verbose_name_plural = "Shipping methods (read at each sync)"
    fields = ["name", "external_id", "updated_at"]
    readonly_fields = fields


class LatestWebhookEventsFormSet(BaseInlineFormSet):
    def get_queryset(self):
        if not hasattr(self, "_latest"):
            self._latest = super().get_queryset()[:LATEST_WEBHOOK_EVENTS]
        return self._latest


class WebhookEventInline(ReadOnlyInline):
    model = WebhookEvent
    formset = LatestWebhookEventsFormSet
    verbose_name_plural = (
        f"Latest webhook events (the last {LATEST_WEBHOOK_EVENTS}, newest first)"
    )
    fields = ["received_at", "event_type", "store_id"]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-received_at", "-id").defer("payload")


@admin.register(PrintOpsIntegration)
class PrintOpsIntegrationAdmin(admin.ModelAdmin):
    """PrintOps: a source of print products and the home of customers' stores.

    The API token is never shown. The delivery URL (with the webhook secret in it) is:
    PrintOps' API has no field for it, so staff enter it in PrintOps themselves.
    """

    form = PrintOpsIntegrationForm
    list_display = [
        "name", "user", "organization", "supplier", "sync_status", "last_successful_sync_at",
        "progress",
    ]
    list_filter = ["sync_status", "organization"]
    list_select_related = ["user", "organization", "supplier"]
    search_fields = ["name", "base_url"]
    autocomplete_fields = ["user", "organization"]
    actions = ["register_webhooks", "sync_now", "full_sync_now"]
    progress = OVSIntegrationAdmin.progress
    sync_now = OVSIntegrationAdmin.sync_now
    full_sync_now = OVSIntegrationAdmin.full_sync_now
    queue_syncs = OVSIntegrationAdmin.queue_syncs

    def get_fieldsets(self, request, obj=None):
        main = ["name", "user", "organization", "base_url"]
        if obj is None:
            return [(None, {"fields": main}), ("Connection", {"fields": ["api_token"]})]
        return [
            (None, {"fields": [*main, "supplier"]}),
            ("Connection", {"fields": ["api_token"]}),
            ("Webhooks", {"fields": ["delivery_url"]}),
            ("Sync state", {"fields": SYNC_STATE_FIELDS}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["supplier", "delivery_url", *SYNC_STATE_FIELDS]

    @admin.display(description="Delivery URL")
    def delivery_url(self, integration):
        return format_html(
            "<code>{}</code><div class=\"help\">Enter this URL as the webhook delivery URL in"
            " your PrintOps account: PrintOps' API takes no URL, so the hub cannot set it."
            " \"Register webhooks\" subscribes the account to the order events.</div>",
            webhook_url(integration),
        )

    def get_inlines(self, request, obj):
        return [] if obj is None else [PrintOpsShippingMethodInline, WebhookEventInline]

    def get_changeform_initial_data(self, request):
        return {"user": request.user.pk, **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # Through the service, so the integration gets its supplier and its schedule.
        created = create_integration(PrintOpsIntegration, **{
            field.name: getattr(obj, field.name)
            for field in obj._meta.concrete_fields if field.name in form.fields
        })
        obj.pk = created.pk
        obj.refresh_from_db()
        obj._state.adding = False

    @admin.action(description="Register webhooks")
    def register_webhooks(self, request, queryset):
        for integration in queryset:
            try:
                registration = register_webhooks(integration)
            except PrintOpsError as exc:
                self.message_user(request, f"{integration.name}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{integration.name}: webhooks {registration}.",
                                  messages.SUCCESS)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    """Webhook events as they were received: they can be read, never edited."""

    list_display = ["received_at", "integration", "event_type", "store_id"]
    list_filter = ["integration", "event_type", "store_id"]
    list_select_related = ["integration"]
    fields = ["integration_link", "event_type", "store_id", "received_at", "payload"]
    readonly_fields = fields


    @admin.display(description="Integration")
    def integration_link(self, event):
        return format_html(
            '<a href="{}">{}</a>', integration_url(event.integration), event.integration
        )


# -- imports -------------------------------------------------------------------------------


def integration_url(integration):
    opts = INTEGRATION_MODELS[integration.integration_type]._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[integration.pk])


@admin.register(ImportTask)
class ImportTaskAdmin(ImportTaskColumns, ReadOnlyAdmin):
    """Imports as the workers record them: they can be read, never edited."""

    list_display = [
        "created_at", "integration", "owner", "status", "progress", "items", "completed_at",
    ]
    list_filter = ["status", "integration"]
    list_select_related = ["integration", "owner"]
    fields = [
        "integration_link", "owner", "status", "is_filler", "progress", "items",
        "product_codes_count", "product_codes", "result_data", "error_message",
        "created_at", "started_at", "completed_at", "updated_at",
    ]
    readonly_fields = fields


    @admin.display(description="Integration")
    def integration_link(self, task):
        return format_html(
            '<a href="{}">{}</a>', integration_url(task.integration), task.integration
        )

