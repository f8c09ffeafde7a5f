// The health mode's operations (fcgi-apps/health.c), and /docs and /console beside them.
import type { Session } from "../session.js";

export default async function ({ client, anonymous, expect, fail }: Session): Promise<void> {
    const { data: health } = await expect(200, anonymous.GET("/health"));
    if (health && !health.modes.includes("health")) fail("/health does not list the health mode");
    await expect(200, client.GET("/metrics", { parseAs: "text" }));
    await expect(401, anonymous.GET("/metrics", { parseAs: "text" }));
    await expect(200, anonymous.GET("/openapi.json"));
    await expect(200, client.GET("/openapi.json"));
    await expect(200, anonymous.GET("/docs", { parseAs: "text" }));
    await expect(200, anonymous.GET("/console", { parseAs: "text" }));
}
