/**
 * RegistryClient: the OCI distribution protocol over node's http client, axios for proxies and token fetches
 * (resolve, verified fetch, push, mounts, tags, catalog, referrers, delete), with docker-style credentials and the
 * token auth flow. The protocol's parsers (challenges, Link headers) and the token exchange stay internal.
 * @module
 */

export { Authenticator, type AuthenticatorOptions, type AuthorizationOptions, type ChallengeOptions } from './auth/authenticator.js';
export {
  type Credential,
  type CredentialGetOptions,
  type CredentialSource,
  DOCKER_HUB_CONFIG_KEY,
  type DockerAuthEntry,
  type DockerConfig,
  DockerConfigCredentials,
  type DockerConfigCredentialsOptions,
  dockerConfigDir,
  dockerConfigKey,
  readDockerConfig,
  StaticCredentials,
} from './auth/credentials.js';
export {
  type DockerConfigWriteOptions,
  type ErasedCredential,
  eraseDockerCredential,
  type StoredCredential,
  storeDockerCredential,
} from './auth/docker-config.js';
export { type AuthHttpRequest, type AuthHttpResponse, type AxiosTokenRequestOptions, axiosTokenRequest, type TokenRequestFunction } from './auth/request.js';
export { type VerifyCredentialsOptions, verifyCredentials } from './auth/verify.js';
export { DEFAULT_CERTS_DIR, type HostTls } from './certs.js';
export { type DistributionError, isTemporaryError, RegistryError, type RegistryErrorInit } from './errors.js';
export type { FetchBlobOptions } from './fetch-blob.js';
export type { FetchedManifest } from './fetch-manifest.js';
export { DEFAULT_PLAIN_HTTP_HOSTS } from './host-match.js';
export type { ProxySettings } from './http.js';
export type { RegistryClientOptions } from './options.js';
export type { ProgressEvent, RegistryEvents } from './progress.js';
export type { PushImageOptions, PushImageResult } from './push-image.js';
export type { ReferrersOptions } from './referrers.js';
export { type ListOptions, RegistryClient } from './registry-client.js';
export { DEFAULT_RETRY_POLICY, type ResolvedRetryPolicy, type RetryPolicy } from './retry.js';
export type {
  CallOptions as RegistryCallOptions,
  ContentSource,
  Fetcher,
  FetchOptions,
  PushContent,
  Pusher,
  PushOptions,
  RegistryAuth,
  Resolved,
  Resolver,
} from './types.js';
export type { PushBlobOptions, PushBlobResult } from './upload.js';
