"""Collections from payment partners, their settlement (platform fees) and refunds."""
