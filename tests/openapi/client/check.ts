// What the generated client's run checks (client/run.sh): every answer
// against the operation of the document that the request's types came
// from (its status listed, X-Request-Id, the media type listed, the body
// valid by ajv, error or not), and which operations the run reached.
import Ajv2020Module from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { Middleware } from "openapi-fetch";

type Json = unknown;
interface Operation {
    operationId: string;
    responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}
export interface Document {
    paths: Record<string, Record<string, Operation>>;
    components: object;
}

// ajv is CommonJS: under NodeNext its default export is the module.
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

// What the run does not drive through the client, each checked by its own
// suite: the MCP endpoint (tests/mcp/, 11-mcp.bats). An event stream is
// the same operation as its JSON page (Accept picks it), driven here as
// JSON; 02-document.bats and 19-document-http.bats read the stream.
const NOT_HERE = new Set(["POST /mcp"]);

export class Checker {
    readonly failures: string[] = [];
    private readonly reached = new Set<string>();
    private readonly ajv;
    private checked = 0;

    constructor(private readonly doc: Document) {
        this.ajv = new Ajv2020({ strict: false, allErrors: true });
        addFormats(this.ajv);
    }

    // The openapi-fetch middleware: every answer of the run goes through it.
    readonly middleware: Middleware = {
        onResponse: async ({ request, response, schemaPath }) => {
            await this.check(request.method, schemaPath, response.clone());
            return undefined;
        },
    };

    private async check(method: string, template: string, res: Response): Promise<void> {
        const label = `${method} ${template}`;
        const op = this.doc.paths[template]?.[method.toLowerCase()];
        if (!op) {
            this.failures.push(`${label}: not an operation of the document`);
            return;
        }
        this.reached.add(label);
        this.checked++;
        const text = await res.text();
        const spec = op.responses[String(res.status)];
        if (!spec) {
            this.failures.push(`${label}: ${res.status} is not among its responses: ${text.slice(0, 200)}`);
            return;
        }
        if (!res.headers.get("x-request-id")) this.failures.push(`${label}: ${res.status} without X-Request-Id`);
        if (!spec.content) {
            if (text !== "") this.failures.push(`${label}: ${res.status} has a body, the document says none`);
            return;
        }
        const type = (res.headers.get("content-type") || "").split(";")[0].trim();
        const content = spec.content[type];
        if (!content) {
            this.failures.push(`${label}: ${res.status} is ${type}, the document says ${Object.keys(spec.content)}`);
            return;
        }
        if (type !== "application/json" || !content.schema) return;
        this.validate(label, res.status, content.schema, text);
    }

    private validate(label: string, status: number, schema: object, text: string): void {
        let value: Json;
        try {
            value = JSON.parse(text);
        } catch {
            this.failures.push(`${label}: ${status} is not JSON: ${text.slice(0, 200)}`);
            return;
        }
        // The schema with the document's components beside it, so that its
        // "#/components/..." references resolve.
        const validate = this.ajv.compile({ ...schema, components: this.doc.components });
        if (!validate(value))
            this.failures.push(`${label}: ${status} does not match the document: ${this.ajv.errorsText(validate.errors)}: ${text.slice(0, 300)}`);
    }

    // The operations no request reached. An operation copied for one
    // value of the data (operationId "<base>__<value>": a table's rows)
    // is covered when one copy of its base is reached: the copies differ
    // only by the value's schema.
    unreached(): string[] {
        const bases = new Map<string, string[]>();
        for (const [template, item] of Object.entries(this.doc.paths))
            for (const [method, op] of Object.entries(item)) {
                const label = `${method.toUpperCase()} ${template}`;
                if (NOT_HERE.has(label)) continue;
                const base = op.operationId.includes("__") ? op.operationId.split("__")[0] + "__*" : label;
                bases.set(base, [...(bases.get(base) || []), label]);
            }
        const missing: string[] = [];
        for (const [base, labels] of bases) if (!labels.some((l) => this.reached.has(l))) missing.push(base.endsWith("__*") ? `${labels[0]} (or another copy of ${base})` : base);
        return missing;
    }

    summary(): string {
        return `${this.checked} answers checked against the document, ${this.reached.size} operations reached`;
    }
}
