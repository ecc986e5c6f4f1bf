import bolt from '@slack/bolt';

// The baseline of `npm run bench -- ack`: a Bolt app on its own HTTP receiver that acknowledges
// every command and does nothing else.
const { App, LogLevel } = bolt;
const app = new App({
  token: process.env.SLACK_BOT_TOKEN as string,
  signingSecret: process.env.SLACK_SIGNING_SECRET as string,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL as string },
  logLevel: LogLevel.ERROR,
});
app.command(/.*/, async ({ ack }) => {
  await ack();
});
await app.start(Number(process.env.PORT));
process.stdout.write('ready\n');
