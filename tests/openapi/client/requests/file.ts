// The file mode's operation (fcgi-apps/file.c): an upload is raw bytes.
import type { Session } from "../session.js";

const raw = { bodySerializer: (body: string) => body, headers: { "Content-Type": "application/octet-stream" } };

export default async function ({ client, expect, fail }: Session): Promise<void> {
    const { data } = await expect(201, client.POST("/files/temp", { body: "hello, file", ...raw }));
    if (data && data.size !== 11) fail(`the upload answered size ${data.size}, not 11`);
}
