DROP TABLE model_routes;
DROP TABLE provider_pricing;
DROP TABLE usage_daily;
DROP TABLE usage;
DROP TABLE jobs;
DROP TABLE tenants;
