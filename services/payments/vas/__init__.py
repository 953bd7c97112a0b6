"""Value-added services: cargo insurance quotes and trade financing offers."""
