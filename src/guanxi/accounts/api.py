"""Accounts API: who am I, personal API tokens, users, teams and roles."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status
from pydantic import EmailStr

from guanxi.accounts import selectors, services
from guanxi.accounts.auth import api_actor
from guanxi.accounts.models import ApiToken, Role, Team, User
from guanxi.core.pagination import keyset_page
from guanxi.core.schemas import InputSchema, PageOut

router = Router(tags=["accounts"])


class TeamRef(Schema):
    id: int
    name: str


class RoleRef(Schema):
    id: int
    code: str
    name: str


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    email: str
    team: TeamRef | None
    role: RoleRef | None
    data_scope: str | None
    permissions: list[str]
    is_superuser: bool


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    email: str
    team: TeamRef | None
    role: RoleRef | None
    is_active: bool
    last_login: datetime | None
    version: int


class UserIn(InputSchema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=128)
    display_name: str = Field("", max_length=120)
    email: EmailStr | None = None
    team_id: int | None = None
    role_id: int | None = None
    is_active: bool = True


class UserPatch(InputSchema):
    version: int
    display_name: str | None = Field(None, max_length=120)
    email: EmailStr | None = None
    team_id: int | None = None
    role_id: int | None = None
    is_active: bool | None = None
    password: str | None = Field(None, min_length=1, max_length=128)


class UserQuery(Schema):
    q: str = Field("", max_length=100)
    team_id: int | None = None
    role_id: int | None = None
    is_active: bool | None = None
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(settings.API_PAGE_SIZE, ge=1, le=settings.API_MAX_PAGE_SIZE)


class TeamOut(Schema):
    id: int
    name: str
    parent_id: int | None
    path: str
    is_active: bool
    version: int


class TeamIn(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    parent_id: int | None = None


class TeamPatch(InputSchema):
    version: int
    name: str | None = Field(None, min_length=1, max_length=120)
    parent_id: int | None = None
    is_active: bool | None = None


class RoleOut(Schema):
    id: int
    code: str
    name: str
    description: str
    permissions: list[str]
    data_scope: str
    is_builtin: bool
    version: int


class RoleIn(InputSchema):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9-]+$")
    name: str = Field(min_length=1, max_length=80)
    description: str = Field("", max_length=255)
    permissions: list[str] = Field(default_factory=list, max_length=200)
    data_scope: str


class RolePatch(InputSchema):
    version: int
    name: str | None = Field(None, min_length=1, max_length=80)
    description: str | None = Field(None, max_length=255)
    permissions: list[str] | None = Field(None, max_length=200)
    data_scope: str | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str


class TokenIn(InputSchema):
    name: str = Field(min_length=1, max_length=80)
    expires_in_days: int | None = Field(settings.API_TOKEN_DEFAULT_DAYS, ge=1, le=3650)


# --- me and tokens -----------------------------------------------------------------------------


@router.get("/me", response=MeOut, summary="The signed-in user, their role and permissions")
def get_me(request: HttpRequest) -> MeOut:
    user = api_actor(request)
    return MeOut(
        id=user.pk,
        username=user.username,
        display_name=str(user),
        email=user.email,
        team=TeamRef(id=user.team.pk, name=user.team.name) if user.team else None,
        role=RoleRef(id=user.role.pk, code=user.role.code, name=user.role.name)
        if user.role
        else None,
        data_scope="all" if user.is_superuser else (user.role.data_scope if user.role else "own"),
        permissions=selectors.user_permissions(user),
        is_superuser=user.is_superuser,
    )


@router.get("/tokens", response=list[TokenOut], summary="My API tokens")
def list_tokens(request: HttpRequest) -> list[ApiToken]:
    return list(selectors.api_token_list(actor=api_actor(request))[:200])


@router.post("/tokens", response={201: TokenCreatedOut}, summary="Create an API token")
def create_token(request: HttpRequest, payload: TokenIn) -> Status[TokenCreatedOut]:
    token, secret = services.api_token_create(
        actor=api_actor(request), name=payload.name, expires_in_days=payload.expires_in_days
    )
    out = TokenCreatedOut.model_validate({**TokenOut.from_orm(token).model_dump(), "token": secret})
    return Status(201, out)


@router.delete("/tokens/{int:token_id}", response={204: None}, summary="Revoke an API token")
def revoke_token(request: HttpRequest, token_id: int) -> Status[None]:
    actor = api_actor(request)
    services.api_token_revoke(actor=actor, token=selectors.api_token_get(actor=actor, pk=token_id))
    return Status(204, None)


# --- users -------------------------------------------------------------------------------------


@router.get("/users", response=PageOut[UserOut], summary="Users, newest first (keyset pages)")
def list_users(request: HttpRequest, query: Query[UserQuery]) -> PageOut[UserOut]:
    filters = selectors.UserFilters(
        q=query.q, team_id=query.team_id, role_id=query.role_id, is_active=query.is_active
    )
    page = keyset_page(
        selectors.user_list(actor=api_actor(request), filters=filters),
        cursor=query.cursor,
        limit=query.limit,
    )
    return PageOut[UserOut](
        items=[UserOut.from_orm(user) for user in page.items],
        next_cursor=page.next_cursor,
        limit=page.limit,
    )


@router.get("/users/{int:user_id}", response=UserOut)
def get_user(request: HttpRequest, user_id: int) -> User:
    return selectors.user_get(actor=api_actor(request), pk=user_id)


def _team(actor: User, team_id: int | None) -> Team | None:
    return None if team_id is None else selectors.team_get(actor=actor, pk=team_id)


def _role(actor: User, role_id: int | None) -> Role | None:
    return None if role_id is None else selectors.role_get(actor=actor, pk=role_id)


@router.post("/users", response={201: UserOut}, summary="Create a user (administrators)")
def create_user(request: HttpRequest, payload: UserIn) -> Status[User]:
    actor = api_actor(request)
    user = services.user_create(
        actor=actor,
        username=payload.username,
        password=payload.password,
        display_name=payload.display_name,
        email=payload.email or "",
        team=_team(actor, payload.team_id),
        role=_role(actor, payload.role_id),
        is_active=payload.is_active,
    )
    return Status(201, selectors.user_get(actor=actor, pk=user.pk))


@router.patch("/users/{int:user_id}", response=UserOut, summary="Change a user (administrators)")
def update_user(request: HttpRequest, user_id: int, payload: UserPatch) -> User:
    actor = api_actor(request)
    user = selectors.user_get(actor=actor, pk=user_id)
    changes = payload.model_dump(exclude_unset=True, exclude={"version", "team_id", "role_id"})
    if "team_id" in payload.model_fields_set:
        changes["team"] = _team(actor, payload.team_id)
    if "role_id" in payload.model_fields_set:
        changes["role"] = _role(actor, payload.role_id)
    services.user_update(actor=actor, user=user, version=payload.version, **changes)
    return selectors.user_get(actor=actor, pk=user_id)


# --- teams and roles ---------------------------------------------------------------------------


@router.get("/teams", response=list[TeamOut], summary="The team tree in path order")
def list_teams(request: HttpRequest) -> list[Team]:
    return list(selectors.team_list(actor=api_actor(request)))


@router.post("/teams", response={201: TeamOut}, summary="Create a team (administrators)")
def create_team(request: HttpRequest, payload: TeamIn) -> Status[Team]:
    actor = api_actor(request)
    parent = _team(actor, payload.parent_id)
    return Status(201, services.team_create(actor=actor, name=payload.name, parent=parent))


@router.patch("/teams/{int:team_id}", response=TeamOut, summary="Rename or move a team")
def update_team(request: HttpRequest, team_id: int, payload: TeamPatch) -> Team:
    actor = api_actor(request)
    team = selectors.team_get(actor=actor, pk=team_id)
    parent: Team | bool | None = False
    if "parent_id" in payload.model_fields_set:
        parent = _team(actor, payload.parent_id)
    return services.team_update(
        actor=actor,
        team=team,
        version=payload.version,
        name=payload.name,
        parent=parent,
        is_active=payload.is_active,
    )


@router.get("/roles", response=list[RoleOut])
def list_roles(request: HttpRequest) -> list[Role]:
    return list(selectors.role_list(actor=api_actor(request)))


@router.post("/roles", response={201: RoleOut}, summary="Create a role (administrators)")
def create_role(request: HttpRequest, payload: RoleIn) -> Status[Role]:
    return Status(201, services.role_create(actor=api_actor(request), **payload.model_dump()))


@router.patch("/roles/{int:role_id}", response=RoleOut, summary="Change a role (administrators)")
def update_role(request: HttpRequest, role_id: int, payload: RolePatch) -> Role:
    actor = api_actor(request)
    role = selectors.role_get(actor=actor, pk=role_id)
    changes = payload.model_dump(exclude_unset=True, exclude={"version"})
    return services.role_update(actor=actor, role=role, version=payload.version, **changes)
