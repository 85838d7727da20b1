"""The order management system (OMS) storefront: its client and the push of products."""
