// metav1.Status, the body of every error the API server answers (and of exec's closing
// frame), and a thrown form of it that the HTTP layer turns into that body and code.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[] };
  code?: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Status["details"],
  ) {
    super(message);
  }

  get status(): Status {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

export function notFound(group: string, plural: string, name: string): ApiError {
  const resource = group ? `${plural}.${group}` : plural;
  return new ApiError(404, "NotFound", `${resource} "${name}" not found`, {
    name,
    ...(group ? { group } : {}),
    kind: plural,
  });
}

/** 422: a field that may not change, as the validation of that kind words it. */
export function invalid(kind: string, name: string, causes: StatusCause[]): ApiError {
  const message = `${kind} "${name}" is invalid: ${causes.map((cause) => `${cause.field}: ${cause.message}`).join(", ")}`;
  return new ApiError(422, "Invalid", message, { name, kind, causes });
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, "BadRequest", message);
}
