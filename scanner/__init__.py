"""kijun: policy-as-code compliance scanner for 情報セキュリティ対策基準."""

__version__ = "0.1.0"
