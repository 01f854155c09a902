// The API's shapes by name (DeploymentStatus, Model, ProviderInfo…), generated from the OpenAPI schema into
// api.gen.ts by openapi-typescript; never edited by hand (hack/openapi.py regenerates them).
export type * from "./api.gen";
