DROP TABLE model_routes;
DROP TABLE provider_pricing;
DROP TABLE usage;
DROP TABLE jobs;
DROP TABLE tenants;
