"""Catalog answers built straight from database rows: the hot path of the product API.

The serializers in `serializers.py` declare each answer once (they are also the OpenAPI
schema). A `RowShape` reads a serializer's fields once and turns a `values()` row into the
dict that serializer would make from a model object, so a product page needs neither model
instances (with every column and timestamp parsed) nor DRF's per-field machinery per row.
"""

import uuid
from collections import defaultdict

from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from psycopg.types.string import TextLoader
from rest_framework import serializers

from catalog.api.filters import ProductFilter
from catalog.api.serializers import (
    ApparelDetailsSerializer,
    OptionAttributeSerializer,
    PrintDetailsSerializer,
    PrintSizeSerializer,
    ProductDetailSerializer,
    ProductImageSerializer,
    ProductListSerializer,
    ProductOptionSerializer,
    VariantPriceSerializer,
    VariantSerializer,
)
from catalog.models import (
    NAME_ORDER,
    OptionAttribute,
    PrintSize,
    Product,
    ProductImage,
    ProductOption,
    Supplier,
    Variant,
    VariantPrice,
    color_key,
)
from hub.api.fields import MoneyStringField, NumberField, money_str


def _same(value):
    return value


# What DRF's to_representation does for these field types, minus its machinery. Any other
# field type (timestamps, JSON) keeps DRF's own to_representation.
FAST_REPRESENTATIONS = {
    serializers.UUIDField: str,
    serializers.CharField: _same,
    serializers.ChoiceField: _same,
    serializers.IntegerField: _same,
    serializers.BooleanField: _same,
    NumberField: float,
    MoneyStringField: money_str,
}


class RowShape:
    """A serializer's answer made from a values() row whose keys are `prefix` + field source.

    Nested answers and the fields named `computed` are not columns: `render` takes them as
    keyword arguments and puts them in their declared place.
    """

    def __init__(self, serializer_class, prefix="", computed=()):
        self.fields = []
        for name, field in serializer_class().fields.items():
            if isinstance(field, serializers.BaseSerializer):
                self.fields.append((name, None, None))
                continue
            represent = FAST_REPRESENTATIONS.get(type(field), field.to_representation)
            if name in computed:
                self.fields.append((name, None, represent))
            else:
                self.fields.append((name, prefix + field.source.replace(".", "__"), represent))
        self.columns = [key for _, key, _ in self.fields if key is not None]
        self.renderers = {}

    def render(self, row, **given):
        answer = {}
        for name, key, represent in self.fields:
            if key is None:
                answer[name] = given[name]
            else:
                value = row[key]
                answer[name] = None if value is None else represent(value)
        return answer

    def renderer(self, names):
        """A function that makes the answer of a row tuple whose columns are `names` (a
        tuple of column keys and computed fields' names), made once per `names`. For a
        page's many rows: no dict per row."""
        if names not in self.renderers:
            self.renderers[names] = self.make_renderer(names)
        return self.renderers[names]

    def make_renderer(self, names):
        position = {name: index for index, name in enumerate(names)}
        plan = [
            (name, position[name if key is None else key],
             None if represent is _same else represent)
            for name, key, represent in self.fields
        ]

        def render(row):
            return {
                name: value if (value := row[index]) is None or represent is None
                else represent(value)
                for name, index, represent in plan
            }

        return render


# The list's figures of each product's configurations, computed by the page's query.
FIGURES = ("variant_count", "price_min", "price_max", "total_inventory")
LIST = RowShape(ProductListSerializer, computed=FIGURES)
DETAIL = RowShape(ProductDetailSerializer, computed=("images_by_color",))
APPAREL_DETAILS = RowShape(ApparelDetailsSerializer, prefix="apparel_details__")
PRINT_DETAILS = RowShape(PrintDetailsSerializer, prefix="print_details__")
SIZE = RowShape(PrintSizeSerializer, prefix="sizes__")
VARIANT = RowShape(VariantSerializer)
PRICE = RowShape(VariantPriceSerializer, prefix="prices__")
IMAGE = RowShape(ProductImageSerializer)
OPTION = RowShape(ProductOptionSerializer)
ATTRIBUTE = RowShape(OptionAttributeSerializer, prefix="attributes__")

# A list page with each product's figures, in one query: the page is read once (a deep
# offset, a search or a category tree costs as much as the page) and the figures are
# taken of its products only. A product's configurations are its variants and its print
# sizes (a print product sells sizes): both are counted, their prices give the range,
# and sizes hold no inventory.
# The supplier's name is joined to the page's rows only, not to every row a deep offset
# passes over on the way to them.
SUPPLIER_NAME = "supplier__name"
PAGE_ORDER = ", ".join(f"page.{name}" for name in NAME_ORDER)
# The configurations of the products `{match}` names.
CONFIGURATIONS = f"""
    SELECT product_id, base_price AS price, inventory FROM {Variant._meta.db_table}
    WHERE product_id {{match}}
    UNION ALL
    SELECT product_id, price, 0 FROM {PrintSize._meta.db_table} WHERE product_id {{match}}
"""
PAGE_WITH_FIGURES = {
    # Each product's figures through the variants' product index (LATERAL). Grouped over
    # the page instead, PostgreSQL prices 1,000 index lookups above a scan of every
    # variant of the catalog, and takes the scan: 80 ms instead of 20.
    "postgresql": f"""
        WITH page AS ({{page}})
        SELECT page.*, supplier.name, figures.*
        FROM page JOIN {Supplier._meta.db_table} supplier ON supplier.id = page.supplier_id
        LEFT JOIN LATERAL (
            SELECT COUNT(*), MIN(price), MAX(price), COALESCE(SUM(inventory), 0)
            FROM ({CONFIGURATIONS.format(match="= page.id")}) configurations
        ) figures ON TRUE
        ORDER BY {PAGE_ORDER}
    """,
    # SQLite has no LATERAL, and reads the page's configurations by index anyway.
    "sqlite": f"""
        WITH page AS ({{page}})
        SELECT page.*, supplier.name, COALESCE(figures.variant_count, 0), figures.price_min,
               figures.price_max, COALESCE(figures.total_inventory, 0)
        FROM page JOIN {Supplier._meta.db_table} supplier ON supplier.id = page.supplier_id
        LEFT JOIN (
            SELECT product_id, COUNT(*) AS variant_count, MIN(price) AS price_min,
                   MAX(price) AS price_max, SUM(inventory) AS total_inventory
            FROM ({CONFIGURATIONS.format(match="IN (SELECT id FROM page)")}) configurations
            GROUP BY product_id
        ) figures ON figures.product_id = page.id
        ORDER BY {PAGE_ORDER}
    """,
}


def product_list(filters, skip, limit):
    """The list answer of one page: `filters` are the ProductFilter's given values."""
    using = Product.objects.db
    statement = LIST_PAGE.statement(using, filters)
    if statement is None:
        return []
    sql, params, names, converters = statement
    connection = connections[using]
    with answer_cursor(connection) as cursor:
        cursor.execute(
            PAGE_WITH_FIGURES[connection.vendor].format(page=f"{sql} LIMIT %s OFFSET %s"),
            [*params, limit, skip],
        )
        rows = cursor.fetchall()
    render = LIST.renderer((*names, SUPPLIER_NAME, *FIGURES))
    if converters:
        rows = (apply_converters(row, converters, connection) for row in rows)
    return [render(row) for row in rows]


def answer_cursor(connection):
    """A cursor for the rows of an answer. On PostgreSQL its UUIDs arrive as the text the
    answer shows (the database's form is Python's `str`), not as UUID objects to turn back
    into text: a 1,000-product page holds 3,000 of them, a detail 150."""
    cursor = connection.cursor()
    if connection.vendor == "postgresql":
        cursor.cursor.adapters.register_loader("uuid", TextLoader)
    return cursor


def apply_converters(row, converters, connection):
    """A raw row with each column through its field's converters (SQLite's UUIDs, say)."""
    row = list(row)
    for position, (functions, expression) in converters.items():
        for function in functions:
            row[position] = function(row[position], expression, connection)
    return row


def converted(row, names, converters, connection):
    """A raw row as the dict values() gives: each column through its field's converters."""
    return dict(zip(names, apply_converters(row, converters, connection), strict=True))


NOT_COMPILED = object()


class CompiledQuery:
    """A values() query built and compiled by the ORM once per shape, then run with each
    request's values: building and compiling a query costs more than running a small one.

    `make(values)` builds the query from a dict of UUIDs, texts and other values. It is
    built once per shape (which values are given, each text's length, any other value
    itself) with stand-ins for the UUIDs and texts: a UUID no row has, and a text of
    private-use characters as long as the value (a query may depend on a text's length,
    as a search's order does). A compiled parameter that is a stand-in takes the
    request's value; one that holds a stand-in text is a LIKE pattern, so the value goes
    in escaped as Django escapes a pattern's.
    """

    # Shapes are few (which filters are given); a search's length makes more.
    MAX_SHAPES = 512

    def __init__(self, make):
        self.make = make
        self.compiled = {}

    def statement(self, using, values):
        """(sql, params, column names, converters) for `values`; None if no row can match."""
        shape = (using, *sorted((name, shape_of(value)) for name, value in values.items()))
        compiled = self.compiled.get(shape, NOT_COMPILED)
        if compiled is NOT_COMPILED:
            # Threads share the cache: a race compiles a shape twice, which is harmless.
            if len(self.compiled) >= self.MAX_SHAPES:
                self.compiled.clear()
            compiled = self.compiled[shape] = self.compile(using, values)
        if compiled is None:
            return None
        sql, slots, names, converters = compiled
        connection = connections[using]
        return sql, [slot(values, connection) for slot in slots], names, converters

    def rows(self, values):
        """The query's rows for `values`, each as the dict values() gives."""
        using = Product.objects.db
        statement = self.statement(using, values)
        if statement is None:
            return
        sql, params, names, converters = statement
        connection = connections[using]
        with answer_cursor(connection) as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        for row in rows:
            yield converted(row, names, converters, connection)

    def compile(self, using, values):
        connection = connections[using]
        stand_ins = {
            name: stand_in(index, value)
            for index, (name, value) in enumerate(sorted(values.items()), start=1)
        }
        queryset = self.make(stand_ins)
        compiler = queryset.query.get_compiler(using)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return None
        slots = [parameter_slot(param, stand_ins, connection) for param in params]
        converters = compiler.get_converters([column for column, _, _ in compiler.select])
        return sql, slots, list(queryset.query.selected), converters


def shape_of(value):
    if isinstance(value, uuid.UUID):
        return "uuid"
    return len(value) if isinstance(value, str) else value


def stand_in(index, value):
    if isinstance(value, uuid.UUID):
        return uuid.UUID(int=(0xE000 << 112) + index)
    if isinstance(value, str):
        return chr(0xE000 + index) * len(value)
    return value


UUID_FIELD = models.UUIDField()


def parameter_slot(param, stand_ins, connection):
    """How a compiled parameter is made for a request's values."""
    for name, stand in stand_ins.items():
        if isinstance(stand, uuid.UUID):
            if param == UUID_FIELD.get_db_prep_value(stand, connection):
                return lambda values, connection: UUID_FIELD.get_db_prep_value(
                    values[name], connection
                )
        elif isinstance(stand, str) and isinstance(param, str) and stand in param:
            if param == stand:
                return lambda values, connection: values[name]
            return lambda values, connection: param.replace(
                stand, connection.ops.prep_for_like_query(values[name])
            )
    return lambda values, connection: param


# The page's products, filtered by the list's FilterSet, in the list's order (unsliced).
LIST_PAGE = CompiledQuery(lambda values: ProductFilter(
    query_data(values),
    queryset=Product.objects.by_name().values(
        *(column for column in LIST.columns if column != SUPPLIER_NAME)
    ),
).qs)


def query_data(values):
    """Filter values as the query string gives them to a FilterSet."""
    return {
        name: ("true" if value else "false") if isinstance(value, bool) else str(value)
        for name, value in values.items()
    }


# The product with its supplier, its details and its print sizes (one row per size).
PRODUCT_ROWS = CompiledQuery(lambda values: (
    Product.objects.filter(pk=values["product_id"])
    .values(*DETAIL.columns, *APPAREL_DETAILS.columns, *PRINT_DETAILS.columns,
            *SIZE.columns, "apparel_details", "print_details", "sizes__id")
    .order_by("sizes__sort_order", "sizes__id")
))
IMAGE_ROWS = CompiledQuery(lambda values: (
    ProductImage.objects.filter(product_id=values["product_id"])
    .values(*IMAGE.columns).order_by("sort_order", "id")
))
VARIANT_ROWS = CompiledQuery(lambda values: (
    Variant.objects.filter(product_id=values["product_id"])
    .values(*VARIANT.columns, *PRICE.columns, "prices__id")
    .order_by("sort_order", "id", *(f"prices__{name}" for name in VariantPrice._meta.ordering))
))
OPTION_ROWS = CompiledQuery(lambda values: (
    ProductOption.objects.filter(product_id=values["product_id"])
    .values(*OPTION.columns, *ATTRIBUTE.columns, "attributes__id")
    .order_by(
        "sort_order", "id", *(f"attributes__{name}" for name in OptionAttribute._meta.ordering)
    )
))


def product_detail(product_id):
    """The detail answer of one product, in four queries whatever its size; None if unknown."""
    one = {"product_id": product_id}
    rows = list(PRODUCT_ROWS.rows(one))
    if not rows:
        return None
    product = rows[0]
    images = [IMAGE.render(row) for row in IMAGE_ROWS.rows(one)]
    return DETAIL.render(
        product,
        variants=_nested(VARIANT_ROWS.rows(one), VARIANT, "prices", PRICE, "prices__id"),
        images=images,
        images_by_color=_by_color(images),
        options=_nested(OPTION_ROWS.rows(one), OPTION, "attributes", ATTRIBUTE, "attributes__id"),
        apparel_details=(
            APPAREL_DETAILS.render(product) if product["apparel_details"] is not None else None
        ),
        print_details=(
            PRINT_DETAILS.render(product) if product["print_details"] is not None else None
        ),
        sizes=[SIZE.render(row) for row in rows if row["sizes__id"] is not None],
    )


def _nested(rows, parent, children_name, child, child_key):
    """Parents with their children from rows of parent LEFT JOIN child, in row order."""
    answers = []
    last_id = None
    for row in rows:
        if row["id"] != last_id:
            children = []
            answers.append(parent.render(row, **{children_name: children}))
            last_id = row["id"]
        if row[child_key] is not None:
            children.append(child.render(row))
    return answers


def _by_color(images):
    groups = defaultdict(list)
    for image in images:
        groups[color_key(image["color"])].append(image)
    return groups

