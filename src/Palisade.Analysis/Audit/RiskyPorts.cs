namespace Palisade.Analysis.Audit;

/// <summary>
/// Ports that should never face the internet: the union of the port lists of the checkers in
/// ../shared/reference/peers.md §A.4 (Prowler's sixteen checks, Alibaba Cloud Config, the CIS items),
/// plus a few services of the same kind. Checked over TCP and UDP.
/// </summary>
public static class RiskyPorts
{
    public static readonly IReadOnlyList<(int Port, string Service)> All =
    [
        (20, "FTP data"), (21, "FTP"), (22, "SSH"), (23, "Telnet"), (25, "SMTP"), (110, "POP3"), (135, "MS RPC"), (139, "NetBIOS"),
        (143, "IMAP"), (445, "SMB"), (1433, "SQL Server"), (1434, "SQL Server browser"), (1521, "Oracle"), (2375, "Docker"), (2376, "Docker TLS"),
        (2483, "Oracle"), (3000, "development servers"), (3306, "MySQL"), (3389, "RDP"), (4333, "mSQL"), (5000, "development servers"),
        (5432, "PostgreSQL"), (5500, "VNC"), (5601, "Kibana"), (5900, "VNC"), (6379, "Redis"), (7199, "Cassandra JMX"), (8080, "HTTP alternate"),
        (8088, "HTTP alternate"), (8888, "Cassandra OpsCenter"), (9042, "Cassandra"), (9092, "Kafka"), (9160, "Cassandra Thrift"),
        (9200, "Elasticsearch"), (9300, "Elasticsearch transport"), (11211, "Memcached"), (27017, "MongoDB"), (27018, "MongoDB"),
    ];
}
