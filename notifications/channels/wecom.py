"""WeCom group robot (企业微信群机器人). The key in the URL is the whole secret: no signing."""

from urllib.parse import parse_qs, urlsplit

from .base import Channel, check_vendor_code, escape_wecom_markdown, hue, one_line, post_json, truncate_bytes

MAX_MARKDOWN_BYTES = 4096


def wecom_colour(message):
    """WeCom markdown has three colours: warning (orange-red), info (green), comment (grey)."""
    degrees = hue(message.color)
    if message.urgent or (degrees is not None and (degrees < 38 or degrees >= 330)):
        return "warning"
    if degrees is not None and 75 <= degrees < 165:
        return "info"
    return "comment"


def robot_url(config):
    if "key" in parse_qs(urlsplit(config.url).query):
        return config.url
    separator = "&" if "?" in config.url else "?"
    return f"{config.url}{separator}key={config.secret}"


class WeComChannel(Channel):
    kind = "wecom"

    def send(self, message, *, address="", config=None):
        colour = wecom_colour(message)
        header = f'**<font color="{colour}">{escape_wecom_markdown(one_line(message.title))}</font>**\n'
        links = f"\n[{message.link_label}]({message.link})"
        if message.ack_url:
            links += f"  [{message.ack_label}]({message.ack_url})"
        content = truncate_bytes(header + escape_wecom_markdown(message.text), MAX_MARKDOWN_BYTES, links)
        payload = {"msgtype": "markdown", "markdown": {"content": content}}
        return check_vendor_code(post_json(robot_url(config), payload), "errcode")
