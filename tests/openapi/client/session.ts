// What a mode's requests file (requests/<mode>.ts) is given: clients typed
// by the document (build/api.d.ts, generated from the served
// /openapi.json by openapi-typescript), a namespace of its own, and the
// status check. Every answer is checked against the document by the
// clients' middleware (check.ts) whatever the status.
import createClient, { type Client } from "openapi-fetch";
import type { paths } from "./build/api.js";

export type Api = Client<paths>;

export interface Session {
    // With the token, and without any (public routes, 401).
    client: Api;
    anonymous: Api;
    // A namespace and a name of this run's own ("client1733...").
    ns: string;
    // The answer of call, failing the run unless its status is want.
    expect<R extends { response: Response }>(want: number, call: Promise<R>): Promise<R>;
    // Records a failure of the run (a value the answer should hold).
    fail(what: string): void;
}

// A mode's requests file exports this as its default.
export type Requests = (s: Session) => Promise<void>;

// Equality filters (a query parameter per column, sql) go as ?col=value:
// an object parameter is exploded in form style, as the document says.
export function makeClient(baseUrl: string, headers: Record<string, string>): Api {
    return createClient<paths>({ baseUrl, headers, querySerializer: { object: { style: "form", explode: true } } });
}
