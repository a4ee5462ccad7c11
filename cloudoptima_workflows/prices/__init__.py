"""Prices: the daily refresh of the price store from the providers' own price lists."""
