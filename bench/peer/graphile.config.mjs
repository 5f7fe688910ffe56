// The peer: PostGraphile 5 (amber preset) over the database `reunify-bench` seeded.
//   PEER_DATABASE_URL  the database (its owner: a superuser sees every row, no RLS)
//   PEER_ROLE, PEER_LA_ID  when set, every request runs as that role with `reunify.la_id` set,
//                      as Reunify's own requests do: row-level security applies (like for like)
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

const role = process.env.PEER_ROLE;
const la = process.env.PEER_LA_ID;

export default {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.PEER_DATABASE_URL,
      schemas: ["public"],
      ...(role ? { pgSettings: () => ({ role, "reunify.la_id": la }) } : {}),
    }),
  ],
  grafserv: { port: Number(process.env.PEER_PORT ?? 5678), host: "127.0.0.1" },
  grafast: { explain: false },
};
