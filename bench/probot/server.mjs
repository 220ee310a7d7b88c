// The same policy check as ferrybot/policy, as a Probot 14 app: title convention and the hold
// label, one check run per event. Throttling and retries follow PROBOT_THROTTLE (on|off).
import { createServer } from "node:http";
import { Probot, ProbotOctokit, createNodeMiddleware } from "probot";

const CONVENTIONAL =
  /^(build|chore|ci|docs|feat|fix|perf|refactor|revert|style|test)(\([\w.\/-]+\))?!?: \S/;
const throttled = process.env.PROBOT_THROTTLE === "on";

const probot = new Probot({
  appId: process.env.APP_ID,
  privateKey: process.env.PRIVATE_KEY,
  secret: process.env.WEBHOOK_SECRET,
  baseUrl: `${process.env.GHE_PROTOCOL}://${process.env.GHE_HOST}/api/v3`,
  // A function, not an object: Probot layers its own throttle options over object defaults
  // (replacing `enabled`), and a function sees them last.
  Octokit: ProbotOctokit.defaults((options) => ({
    ...options,
    throttle: { ...options.throttle, enabled: throttled },
    retry: { ...options.retry, enabled: throttled },
  })),
  logLevel: process.env.LOG_LEVEL || "warn",
});

const app = (robot) => {
  robot.on(
    [
      "pull_request.opened",
      "pull_request.reopened",
      "pull_request.synchronize",
      "pull_request.edited",
      "pull_request.labeled",
      "pull_request.unlabeled",
    ],
    async (context) => {
      const pr = context.payload.pull_request;
      const held = pr.labels.some((label) => label.name === "do-not-merge/hold");
      const ok = CONVENTIONAL.test(pr.title) && !held;
      await context.octokit.rest.checks.create(
        context.repo({
          name: "ferrybot/policy",
          head_sha: pr.head.sha,
          status: "completed",
          conclusion: ok ? "success" : "failure",
          output: {
            title: ok ? "Policy satisfied" : "Policy not met",
            summary: ok ? "Title and labels follow the policy." : "Fix the title or labels.",
          },
        }),
      );
    },
  );
};

const middleware = await createNodeMiddleware(app, { probot, webhooksPath: "/webhooks/github" });
createServer(middleware).listen(Number(process.env.PORT), "127.0.0.1", () => {
  console.log("probot.listening");
});
