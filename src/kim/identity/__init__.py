"""Single sign-on: login through OpenID Connect (Keycloak, Entra ID, ADFS) and LDAP (Active
Directory, OpenLDAP), with roles and providers granted by directory groups per district
(DirectoryGroup). Off unless configured (KIM_OIDC_*, KIM_LDAP_*); local accounts stay."""
