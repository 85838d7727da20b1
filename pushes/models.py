import uuid

from django.db import models


class Customer(models.Model):
    """A print shop's customer: the owner of one storefront the hub pushes to."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class PushLog(models.Model):
    """One attempt to push one product to one customer's storefront."""

    class Status(models.TextChoices):
        PUSHED = "pushed", "Pushed"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="push_logs")
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="push_logs"
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    error = models.TextField(null=True, blank=True)
    pushed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The product's id in the storefront, as the storefront returned it.
    storefront_product_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["-pushed_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "product", "-pushed_at"], name="pushlog_history"),
        ]

    def __str__(self):
        return f"{self.customer} / {self.product_id}: {self.status}"
