"""What every storefront type provides to the push service.

A storefront (OnPrintShop, a PrintOps store, an order management system) is reached
through its integration: `customer.storefront.typed().storefront()` returns an object
with one method:

    push(priced: PricedProduct, state: PushState) -> PushOutcome
    deactivate(state: PushState) -> None      (optional: storefronts that can hide a
                                               product implement it; archiving uses it)
    refusal(product) -> str | None            (optional: why this storefront cannot take
                                               the product at all, e.g. PrintOps fulfils
                                               only its own products; a push is then 422)

`state` carries what the hub knows of the product in that storefront (its id and the
ids of whatever hangs off it, in `refs`), loaded from StorefrontProduct. A storefront
creates what has no id yet and updates what has one. The moment the storefront returns
an id, the push calls `state.keep(storefront_product_id, refs, new_category_ids)`, which
stores them before the next request: a push whose process dies on the next line is
continued by the next attempt, never duplicated. It raises PushFailed naming the step
that failed; the ids it obtained before that go in the exception's `refs` as well.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


def keep_nothing(storefront_product_id, refs, new_category_ids):
    """The default `PushState.keep`, for pushes whose ids are kept by their caller only."""


@dataclass
class PushState:
    storefront_product_id: str | None = None
    refs: dict = field(default_factory=dict)
    # Per category of the product (root first): the storefront category id, if mapped.
    category_ids: dict = field(default_factory=dict)
    # The customer's settings for this storefront (Customer.storefront_options).
    options: dict = field(default_factory=dict)
    # Stores the ids obtained so far, at once (see the module's notes).
    keep: Callable = keep_nothing


@dataclass
class PushOutcome:
    storefront_product_id: str
    refs: dict
    created: bool
    # Categories the storefront created on the way: {hub category id: storefront id}.
    new_category_ids: dict = field(default_factory=dict)
    # False when the storefront found nothing to send (logged as unchanged).
    sent: bool = True
    # What the push did, in words, when the storefront has more to say than created/updated.
    summary: str = ""


class PushFailed(Exception):
    def __init__(self, step, message, *, storefront_product_id=None, refs=None,
                 new_category_ids=None, retryable=False):
        super().__init__(message)
        self.step = step
        self.message = message
        self.storefront_product_id = storefront_product_id
        self.refs = refs
        self.new_category_ids = new_category_ids or {}
        # True for failures that may heal (timeouts, 429, 5xx): the task retries them.
        self.retryable = retryable
