"""查询统计: aggregates kept with the credit-hour summaries, and the statistics read from them."""
