"""The scanning engine: discovery, rule loading, matching and the scan runner."""
