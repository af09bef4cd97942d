"""alipay channel."""
