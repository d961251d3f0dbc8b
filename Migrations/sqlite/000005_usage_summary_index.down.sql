DROP INDEX usage_summary;
