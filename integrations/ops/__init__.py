"""The OnPrintShop (OPS) storefront: its GraphQL client and the push of priced products."""
