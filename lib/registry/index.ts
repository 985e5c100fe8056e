/**
 * RegistryClient: the OCI distribution protocol over node's http client, axios for proxies and token fetches
 * (resolve, verified fetch, push, mounts, tags, catalog, referrers, delete), with docker-style credentials and the
 * token auth flow. The protocol's parsers (challenges, Link headers) and the token exchange stay internal.
 * @module
 */
export { RegistryClient, type ListOptions } from './registry-client.js';
export type { RegistryAuth, CallOptions as RegistryCallOptions, Resolved, Resolver, FetchOptions, Fetcher, PushContent, PushOptions, Pusher, ContentSource } from './types.js';
export type { RegistryClientOptions } from './options.js';
export { DEFAULT_RETRY_POLICY, type RetryPolicy, type ResolvedRetryPolicy } from './retry.js';
export type { ProxySettings } from './http.js';
export { DEFAULT_CERTS_DIR, type HostTls } from './certs.js';
export { DEFAULT_PLAIN_HTTP_HOSTS } from './host-match.js';
export { RegistryError, isTemporaryError, type DistributionError, type RegistryErrorInit } from './errors.js';
export type { ProgressEvent, RegistryEvents } from './progress.js';
export type { FetchedManifest } from './fetch-manifest.js';
export type { FetchBlobOptions } from './fetch-blob.js';
export type { PushBlobOptions, PushBlobResult } from './upload.js';
export type { PushImageOptions, PushImageResult } from './push-image.js';
export type { ReferrersOptions } from './referrers.js';
export { Authenticator, type AuthenticatorOptions, type AuthorizationOptions, type ChallengeOptions } from './auth/authenticator.js';
export { axiosTokenRequest, type AxiosTokenRequestOptions, type TokenRequestFunction, type AuthHttpRequest, type AuthHttpResponse } from './auth/request.js';
export {
  StaticCredentials,
  DockerConfigCredentials,
  dockerConfigDir,
  dockerConfigKey,
  DOCKER_HUB_CONFIG_KEY,
  readDockerConfig,
  type Credential,
  type CredentialSource,
  type CredentialGetOptions,
  type DockerAuthEntry,
  type DockerConfig,
  type DockerConfigCredentialsOptions,
} from './auth/credentials.js';
export { storeDockerCredential, eraseDockerCredential, type DockerConfigWriteOptions, type StoredCredential, type ErasedCredential } from './auth/docker-config.js';
export { verifyCredentials, type VerifyCredentialsOptions } from './auth/verify.js';
