from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TokenResponse(BaseModel):
    """TokenResponse"""

    access_token: str = Field(description="Access token that should be used in API calls")
    expires_in: int = Field(description="expiration time in ms")
    token_type: str = Field("bearer", description="token type; always bearer")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "access_token": "eyJhbGciOiJIUzI1NiIs...",
                "expires_in": 3600000,
                "token_type": "bearer",
            }
        }
    )


class TokenRequest(BaseModel):
    """Credentials, accepted in a JSON body as an alternative to the query string."""

    clientKey: str | None = None
    secret: str | None = None
