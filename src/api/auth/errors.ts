/** Why a request was refused: 401 when the caller is not known, 403 when it may not do this. */
export type AuthErrorCode = "unauthorized" | "forbidden" | "forbidden_origin";

export class AuthError extends Error {
  override readonly name = "AuthError";
  constructor(
    readonly status: 401 | 403,
    readonly code: AuthErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const unauthorized = (message: string) => new AuthError(401, "unauthorized", message);
export const forbidden = (message: string) => new AuthError(403, "forbidden", message);
