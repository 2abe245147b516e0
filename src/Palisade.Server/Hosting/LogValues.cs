using System.Globalization;
using System.Text;
using Palisade.Server.Actions;

namespace Palisade.Server.Hosting;

/// <summary>
/// What a log line may hold of a request. The text format writes values as they are, so a value
/// with a carriage return, a line feed or a terminal escape could forge or hide lines: an action is
/// logged only by its catalogued name (anything else is <c>unknown</c>), and every other value a
/// client could have shaped is escaped here (control and format characters as <c>\uXXXX</c>) and cut.
/// </summary>
internal static class LogValues
{
    public const int MaxLength = 256;

    /// <summary>The action's name when the catalogue knows it, <c>unknown</c> otherwise, <c>-</c> when there was none.</summary>
    public static string Action(string? name, ActionCatalog catalog) =>
        name is null ? "-" : catalog.KnowsName(name) ? name : "unknown";

    /// <summary>The value with every character that is not plainly printable escaped, at most <paramref name="max"/> characters of it.</summary>
    public static string Escape(string? value, int max = MaxLength)
    {
        if (value is null)
            return "-";
        var text = new StringBuilder(Math.Min(value.Length, max) + 8);
        foreach (var c in value)
        {
            if (text.Length >= max)
            {
                text.Append('…');
                break;
            }
            var category = char.GetUnicodeCategory(c);
            if (c == '\\')
                text.Append(@"\\");
            else if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                     or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned or UnicodeCategory.PrivateUse)
                text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            else
                text.Append(c);
        }
        return text.ToString();
    }
}
